// The example: what an app on the Wacht SDK does — poll the memberships
// every 30 s with SWR and render them by organization, a restricted
// workspace greyed out with its eligibility message.
//
// Query parameters: api (the API's origin, default http://localhost:8080),
// interval (the poll in ms, default 30000; tests use less), dev_session (a
// staging deployment's session token, sent as __dev_session__).
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import useSWR from "swr";
import {
  createMembershipsClient,
  getMemberships,
  MembershipsError,
  type WorkspaceMembership,
} from "../src/index";

const q = new URLSearchParams(location.search);
const interval = Number(q.get("interval") ?? 30_000);
const devSession = q.get("dev_session");
const client = createMembershipsClient({
  baseUrl: q.get("api") ?? "http://localhost:8080",
  ...(devSession ? { devSession } : {}),
});

// Every poll that succeeded, for a person (and the browser test) to see: an
// unchanged answer revalidated by the browser (a 304 on the wire) is one too,
// read from the browser's cache.
let polls = 0;

function Switcher() {
  const { data, error } = useSWR<WorkspaceMembership[], Error>(
    ["memberships"],
    () => getMemberships(client),
    {
      refreshInterval: interval,
      dedupingInterval: Math.min(2_000, interval),
      onSuccess: () => {
        document.body.dataset.polls = String(++polls);
      },
    },
  );
  if (error) {
    document.body.dataset.state = "failed";
    const why = error instanceof MembershipsError ? `${error.message} (${error.status}, code ${error.code})` : error.message;
    return <p className="error">Could not load workspaces: {why}</p>;
  }
  if (!data) return <p>Loading…</p>;
  document.body.dataset.state = "loaded";

  const byOrg = new Map<string, { name: string; rows: WorkspaceMembership[] }>();
  for (const m of data) {
    const org = byOrg.get(m.organization.id) ?? { name: m.organization.name, rows: [] };
    org.rows.push(m);
    byOrg.set(m.organization.id, org);
  }
  return (
    <>
      <h1>Workspaces</h1>
      {[...byOrg].map(([id, org]) => (
        <section key={id}>
          <h2>{org.name}</h2>
          <ul>
            {org.rows.map((m) => {
              const r = m.eligibility_restriction;
              const restricted = r.type !== "none";
              return (
                <li key={m.id} data-workspace={m.workspace.id} className={restricted ? "restricted" : undefined}
                  title={restricted ? r.message : undefined}>
                  {m.workspace.name}
                  {restricted && <span className="why">{r.message}</span>}
                </li>
              );
            })}
          </ul>
        </section>
      ))}
    </>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <Switcher />
  </StrictMode>,
);

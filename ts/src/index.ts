// A typed client for the workspace-memberships API: openapi-fetch over the
// types openapi-typescript generates from openapi.yaml (src/schema.d.ts, by
// `make generate`; never edit it by hand).
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "./schema";

export type { components, operations, paths };

type Schemas = components["schemas"];
export type WorkspaceMembership = Schemas["WorkspaceMembership"];
export type WorkspaceMembershipsResponse = Schemas["WorkspaceMembershipsResponse"];
export type EligibilityRestriction = Schemas["EligibilityRestriction"];
/** The error envelope of every failure: `{"errors":[{"message","code"}]}`. */
export type ErrorResponse = Schemas["ErrorResponse"];
export type ErrorCode = Schemas["ErrorCode"];
export type RetryLaterCode = Schemas["RetryLaterCode"];
/** The envelope of 429 and 503 (codes 1400, 1500), which carry `Retry-After`. */
export type RetryLaterResponse = Schemas["RetryLaterResponse"];
/** Query parameters of GET /me/workspace-memberships (`org_id`). */
export type MembershipsQuery = NonNullable<operations["GetUserWorkspaceMemberships"]["parameters"]["query"]>;

/** The staging query parameter that carries the session token. */
export const DEV_SESSION_PARAM = "__dev_session__";
/** The header in which a staging deployment returns a refreshed token. */
export const DEV_SESSION_HEADER = "X-Development-Session";

export interface MembershipsClientOptions {
  /** The API's origin, e.g. "https://api.example.com". */
  baseUrl: string;
  /**
   * Staging deployments only: the session token, sent as `__dev_session__`
   * (the cookie, when there is one, wins). A refreshed token returned in
   * `X-Development-Session` replaces it for the next request. Production
   * deployments ignore the parameter, so leave this unset there.
   */
  devSession?: string;
  /** Replaces the global fetch (tests, non-browser runtimes). */
  fetch?: (input: Request) => Promise<Response>;
}

export interface MembershipsClient extends Client<paths> {
  /** The staging token the next request sends, after any refresh. */
  devSession(): string | undefined;
}

/**
 * createMembershipsClient sends the `__session` cookie across origins
 * (`credentials: "include"`; the API allows listed origins with
 * credentials) and, on staging, the `__dev_session__` parameter.
 */
export function createMembershipsClient(opts: MembershipsClientOptions): MembershipsClient {
  const client = createClient<paths>({
    baseUrl: opts.baseUrl,
    credentials: "include",
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  let devSession = opts.devSession;
  const dev: Middleware = {
    onRequest({ request }) {
      if (!devSession) return undefined;
      const url = new URL(request.url);
      url.searchParams.set(DEV_SESSION_PARAM, devSession);
      return new Request(url, request);
    },
    onResponse({ response }) {
      // Exposed by the API's CORS headers, so a cross-origin page reads it.
      const next = response.headers.get(DEV_SESSION_HEADER);
      if (next) devSession = next;
      return undefined;
    },
  };
  client.use(dev);
  return Object.assign(client, { devSession: () => devSession });
}

/** A failed request: the HTTP status and the API's error envelope. */
export class MembershipsError extends Error {
  readonly status: number;
  readonly errors: ErrorResponse["errors"] | RetryLaterResponse["errors"];
  constructor(status: number, body: ErrorResponse | RetryLaterResponse) {
    super(body.errors[0]?.message ?? `HTTP ${status}`);
    this.name = "MembershipsError";
    this.status = status;
    this.errors = body.errors;
  }
  /** The first error's stable reason code (1000…1900). */
  get code(): ErrorCode | RetryLaterCode | undefined {
    return this.errors[0]?.code;
  }
}

/**
 * getMemberships is a fetcher (for SWR and the like): the memberships, or a
 * thrown MembershipsError carrying the envelope.
 */
export async function getMemberships(
  client: MembershipsClient,
  query: MembershipsQuery = {},
): Promise<WorkspaceMembership[]> {
  const res = await client.GET("/me/workspace-memberships", { params: { query } });
  if (res.error !== undefined) throw new MembershipsError(res.response.status, res.error);
  return res.data.data;
}

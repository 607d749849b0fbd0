// api: the operator API from the page. The session is the HttpOnly cookie
// the sign-in sets (Path=/v1, SameSite=Strict); a change carries the
// session's CSRF token in X-CSRF-Token, as docs/operator-api.md asks. An
// error is thrown as ApiError with the API's status, code and message,
// which the pages show as they are. A 401 (the session ended or expired)
// is also told to the page as the event onecard:unauthorized.
let csrf = null;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || "HTTP " + status);
    this.status = status;
    this.code = code || "";
  }
}

export function setCsrf(token) {
  csrf = token;
}

// body: an object sent as JSON, or (with type) text sent as it is, e.g.
// a provider's attendance report as text/csv.
export async function call(method, path, body, type) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined && type) {
    headers["Content-Type"] = type;
    init.body = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  let r;
  try {
    r = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, "network", String(e));
  }
  let doc = null;
  try {
    doc = await r.json();
  } catch (e) {
    doc = null;
  }
  if (!r.ok) {
    const err = doc && doc.error ? doc.error : {};
    // the session ended or expired (not a wrong password at sign-in):
    // the page goes back to the sign-in and says why
    if (r.status === 401 && path !== "/v1/session") {
      window.dispatchEvent(new CustomEvent("onecard:unauthorized", { detail: err.message || "" }));
    }
    throw new ApiError(r.status, err.code, err.message);
  }
  return doc;
}

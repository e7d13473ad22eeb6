// Calls to the service's API from its own pages: the API key (kept in this tab's sessionStorage, sent as a bearer
// token), and problems (RFC 9457) turned into errors that carry their status, title and detail for the page to show.

const KEY_ITEM = 'adam.apiKey';

/** A problem the API answered (or a call that got no answer: status 0). */
export class Problem extends Error {
  constructor({status, title, detail, type, instance}) {
    super(`${status} ${title}: ${detail}`);
    this.name = 'Problem';
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.type = type ?? null;
    this.instance = instance ?? null;
  }
}

const unauthorizedListeners = new Set();

/** Calls listener(problem) whenever the API answers 401: the service has API keys and this tab has no valid one. */
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
}

/** The API key of this tab ('' when none). */
export function apiKey() {
  return sessionStorage.getItem(KEY_ITEM) ?? '';
}

/** Keeps the key for this tab only (sessionStorage); '' forgets it. */
export function setApiKey(key) {
  if (key) {
    sessionStorage.setItem(KEY_ITEM, key);
  } else {
    sessionStorage.removeItem(KEY_ITEM);
  }
}

function headers(hasBody) {
  const result = {Accept: 'application/json'};
  if (hasBody) {
    result['Content-Type'] = 'application/json';
  }
  const key = apiKey();
  if (key) {
    result.Authorization = `Bearer ${key}`;
  }
  return result;
}

/**
 * One call: the answer's JSON (null for 204), or a thrown Problem with the API's title and detail. body is an
 * object (sent as JSON) or a string of JSON as it is.
 */
export async function call(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: headers(body !== undefined),
      body: (body === undefined || typeof body === 'string') ? body : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (error) {
    throw new Problem({status: 0, title: 'The service did not answer',
      detail: `${method} ${path}: ${error.message}. Is it running?`});
  }
  if (response.ok) {
    return (response.status === 204) ? null : response.json();
  }
  const text = await response.text();
  let document = null;
  try {
    document = JSON.parse(text);
  } catch {
    // not a problem document: shown as text below
  }
  const problem = (document && typeof document.title === 'string')
    ? new Problem({...document, status: response.status})
    : new Problem({status: response.status, title: response.statusText || 'Error',
      detail: text.slice(0, 300) || `${method} ${path} answered ${response.status}`});
  if (response.status === 401) {
    unauthorizedListeners.forEach((listener) => listener(problem));
  }
  throw problem;
}

/**
 * DELETEs that outlive the page (fetch's keepalive): for pagehide, when the page cannot wait for answers. Best
 * effort: the sessions expire after the service's idle timeout anyway.
 */
export function deleteWhileLeaving(paths) {
  for (const path of paths) {
    fetch(path, {method: 'DELETE', headers: headers(false), keepalive: true}).catch(() => {});
  }
}

/** A number as JSON, or as the tokens the API takes for gradients that are not finite (NaN, Infinity). */
export function jsonNumber(value) {
  if (Number.isFinite(value)) {
    return String(value);
  }
  return Number.isNaN(value) ? 'NaN' : (value > 0 ? 'Infinity' : '-Infinity');
}

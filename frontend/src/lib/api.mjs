// fetch() for the JSON API: same-origin session auth, the CSRF header, and typed errors.

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export function cookieValue(name, cookieString = globalThis.document ? document.cookie : '') {
  for (const part of cookieString.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return null;
}

export async function api(path, { method = 'GET', body = undefined, fetchImpl = globalThis.fetch } = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') {
    const token = cookieValue('csrftoken');
    if (token) headers['X-CSRFToken'] = token;
  }
  // A FormData body (file uploads) goes as multipart; the browser sets its boundary.
  const multipart = typeof FormData !== 'undefined' && body instanceof FormData;
  if (body !== undefined && !multipart) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetchImpl(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined || multipart ? body : JSON.stringify(body),
    });
  } catch (_err) {
    throw new ApiError('ERR_NETWORK', 'Could not reach the server. Check your connection.', 0);
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch (_err) {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(
      error.code || 'ERR_HTTP',
      error.message || `The server answered ${response.status}.`,
      response.status,
    );
  }
  return data;
}

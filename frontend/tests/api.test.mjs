import assert from 'node:assert/strict';
import { test } from 'node:test';

import { api, ApiError, cookieValue } from '../src/lib/api.mjs';

test('cookieValue finds one cookie among many', () => {
  assert.equal(cookieValue('csrftoken', 'a=1; csrftoken=abc%3D; b=2'), 'abc=');
  assert.equal(cookieValue('csrftoken', 'xcsrftoken=1'), null);
  assert.equal(cookieValue('csrftoken', ''), null);
});

function fakeFetch(status, body) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    calls.push({ url, init });
    return { status, ok: status >= 200 && status < 300, json: async () => body };
  };
  return { fetchImpl, calls };
}

test('api sends JSON and returns the parsed body', async () => {
  const { fetchImpl, calls } = fakeFetch(201, { id: 'x' });
  assert.deepEqual(await api('/api/documents/', { method: 'POST', body: { title: 't' }, fetchImpl }), { id: 'x' });
  assert.equal(calls[0].init.body, '{"title":"t"}');
  assert.equal(calls[0].init.headers['Content-Type'], 'application/json');
  assert.equal(calls[0].init.credentials, 'same-origin');
});

test('api turns the error envelope into an ApiError', async () => {
  const { fetchImpl } = fakeFetch(400, { error: { code: 'ERR_VALIDATION', message: 'No user called x.' } });
  await assert.rejects(api('/api/x/', { method: 'POST', body: {}, fetchImpl }), (err) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, 'ERR_VALIDATION');
    assert.equal(err.message, 'No user called x.');
    assert.equal(err.status, 400);
    return true;
  });
});

test('api reports a network failure in words', async () => {
  const fetchImpl = async () => {
    throw new TypeError('Failed to fetch');
  };
  await assert.rejects(api('/api/x/', { fetchImpl }), { code: 'ERR_NETWORK' });
});

test('204 gives null', async () => {
  const { fetchImpl } = fakeFetch(204, null);
  assert.equal(await api('/api/x/', { method: 'DELETE', fetchImpl }), null);
});

test('api sends FormData as it is, letting the browser set the multipart type', async () => {
  const { fetchImpl, calls } = fakeFetch(201, { id: 'new' });
  const form = new FormData();
  form.append('file', new Blob(['# Hi\n']), 'notes.md');
  assert.deepEqual(await api('/api/documents/import/', { method: 'POST', body: form, fetchImpl }), { id: 'new' });
  assert.equal(calls[0].init.body, form);
  assert.equal(calls[0].init.headers['Content-Type'], undefined);
});

// Image uploads: what is sent, what is inserted, and what is refused before and after sending.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ImageUploads, fileProblem, ownImagePath } from '../src/lib/images.mjs';

const DOC = '0f8fad5b-d9cb-469f-a165-70867728950e';
const PATH = `/api/documents/${DOC}/images/${'a'.repeat(32)}/`;

class FakeDelta {
  constructor() { this.ops = []; }
  insert(value) { this.ops.push({ insert: value }); return this; }
}

function fakeQuill() {
  return {
    embeds: [],
    clipboard: { matchers: [], addMatcher(selector, fn) { this.matchers.push([selector, fn]); } },
    insertEmbed(index, name, value, source) { this.embeds.push({ index, name, value, source }); },
    setSelection() {},
    getLength: () => 6,
  };
}

function uploads(overrides = {}) {
  const said = [];
  const quill = fakeQuill();
  const sent = [];
  const images = new ImageUploads({
    quill,
    documentId: DOC,
    Delta: FakeDelta,
    maxBytes: 1024,
    canUpload: () => true,
    say: (message, tone) => said.push([tone, message]),
    upload: async (file) => { sent.push(file.name); return { url: PATH }; },
    ...overrides,
  });
  return { images, quill, said, sent };
}

test('only this document\'s image paths are its own', () => {
  assert.equal(ownImagePath(PATH, DOC, 'http://h'), PATH);
  assert.equal(ownImagePath(`http://h${PATH}`, DOC, 'http://h'), PATH);
  assert.equal(ownImagePath(PATH.replace(DOC, '1f8fad5b-d9cb-469f-a165-70867728950e'), DOC, 'http://h'), null);
  assert.equal(ownImagePath('data:image/png;base64,xx', DOC, 'http://h'), null);
  assert.equal(ownImagePath(`https://evil.example${PATH}`, DOC, 'http://h'), null);
});

test('SVG, other types and oversized files are refused before sending', () => {
  assert.match(fileProblem({ type: 'image/svg+xml', size: 1 }, 10), /SVG/);
  assert.match(fileProblem({ type: 'application/pdf', name: 'a.pdf', size: 1 }, 10), /not a PNG/);
  assert.match(fileProblem({ type: 'image/png', size: 11 * 1024 * 1024 }, 10 * 1024 * 1024), /at most 10 MB/);
  assert.equal(fileProblem({ type: 'image/png', size: 5 }, 10), null);
});

test('an uploaded file is inserted as an embed of the answered path, at the caret', async () => {
  const { images, quill, sent, said } = uploads();
  await images.insert({ index: 2, length: 0 }, [{ name: 'a.png', type: 'image/png', size: 10 }, { name: 'b.svg', type: 'image/svg+xml', size: 10 }]);
  assert.deepEqual(sent, ['a.png']);
  assert.deepEqual(quill.embeds, [{ index: 2, name: 'image', value: PATH, source: 'user' }]);
  assert.ok(said.some(([tone, message]) => tone === 'bad' && /SVG/.test(message)));
});

test('a refused upload says why and inserts nothing; without the role nothing is sent', async () => {
  const failing = uploads({ upload: async () => { throw new Error('The image is too large (9000 × 10).'); } });
  await failing.images.insert({ index: 0 }, [{ name: 'a.png', type: 'image/png', size: 10 }]);
  assert.deepEqual(failing.quill.embeds, []);
  assert.match(failing.said.at(-1)[1], /too large/);
  const viewer = uploads({ canUpload: () => false });
  await viewer.images.insert({ index: 0 }, [{ name: 'a.png', type: 'image/png', size: 10 }]);
  assert.deepEqual(viewer.sent, []);
  viewer.images.pick({ createElement: () => assert.fail('no file picker for a viewer') });
  assert.match(viewer.said.at(-1)[1], /cannot add images/);
});

test('pasted HTML keeps only this document\'s images, and destroy() removes the matcher', () => {
  const { images, quill } = uploads();
  const [[selector, matcher]] = quill.clipboard.matchers;
  assert.equal(selector, 'IMG');
  const node = (src) => ({ getAttribute: () => src });
  assert.deepEqual(matcher(node(PATH), null).ops, [{ insert: { image: PATH } }]);
  assert.deepEqual(matcher(node('https://example.com/cat.png'), null).ops, []);
  images.destroy();
  assert.equal(quill.clipboard.matchers.length, 0);
});

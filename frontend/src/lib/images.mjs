// Images into the editor: a pasted, dropped or picked file is uploaded to the document's image
// endpoint, and the path the server answers is inserted as an image embed. Never a data URL,
// never another site's address: the server accepts only this document's own images, so a pasted
// <img> from elsewhere is left out here rather than refused there.

export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

/** The image path of this document that `src` names, or null (another document, site or data URL). */
export function ownImagePath(src, documentId, origin = globalThis.location ? globalThis.location.origin : '') {
  if (typeof src !== 'string') return null;
  let path = src;
  if (origin && path.startsWith(origin)) path = path.slice(origin.length);
  const pattern = new RegExp(`^/api/documents/${documentId}/images/[0-9a-f]{32}/$`);
  return pattern.test(path) ? path : null;
}

/** Why a file cannot be uploaded before it is sent, or null. */
export function fileProblem(file, maxBytes) {
  if (file.type === 'image/svg+xml') return 'SVG images are not accepted; use PNG, JPEG, GIF or WebP.';
  if (file.type && !IMAGE_TYPES.includes(file.type)) return `${file.name || 'This file'} is not a PNG, JPEG, GIF or WebP image.`;
  if (maxBytes && file.size > maxBytes) return `An image can be at most ${Math.floor(maxBytes / (1024 * 1024))} MB.`;
  return null;
}

export class ImageUploads {
  /**
   * quill: the editor; upload(file) resolves to {url} or throws an error with a message;
   * canUpload() says whether the person may add content now; say(message, tone) shows a notice.
   */
  constructor({ quill, documentId, upload, canUpload, say, maxBytes = 0, Delta }) {
    this.quill = quill;
    this.documentId = documentId;
    this.upload = upload;
    this.canUpload = canUpload;
    this.say = say;
    this.maxBytes = maxBytes;
    this.pending = 0;
    // Pasted HTML keeps only this document's images (copy and paste within it).
    this.matcher = (node, delta) => {
      const path = ownImagePath(node.getAttribute('src'), this.documentId);
      if (!path) return new Delta();
      return new Delta().insert({ image: path });
    };
    quill.clipboard.addMatcher('IMG', this.matcher);
  }

  /** Quill's uploader handler: paste and drop of files, and the toolbar's picker, end here. */
  async insert(range, files) {
    if (!this.canUpload()) {
      this.say('You cannot add images to this document.', 'warn');
      return;
    }
    let index = range ? range.index : this.quill.getLength() - 1;
    for (const file of files) {
      const problem = fileProblem(file, this.maxBytes);
      if (problem) {
        this.say(problem, 'bad');
        continue;
      }
      this.pending += 1;
      this.say(`Uploading ${file.name || 'image'}…`, 'info');
      try {
        const { url } = await this.upload(file);
        this.quill.insertEmbed(index, 'image', url, 'user');
        index += 1;
        this.quill.setSelection(index, 0, 'silent');
        this.say('Image added.', 'ok');
      } catch (err) {
        this.say(`The image was not added: ${(err && err.message) || err}`, 'bad');
      } finally {
        this.pending -= 1;
      }
    }
  }

  /** Open the file picker (the toolbar's image button). */
  pick(documentRef = globalThis.document) {
    if (!this.canUpload()) {
      this.say('You cannot add images to this document.', 'warn');
      return;
    }
    const input = documentRef.createElement('input');
    input.type = 'file';
    input.accept = IMAGE_TYPES.join(',');
    input.multiple = true;
    input.className = 'visually-hidden';
    input.dataset.imagePicker = '';
    input.addEventListener('change', () => {
      const files = Array.from(input.files || []);
      input.remove();
      if (files.length) this.insert(this.quill.getSelection(true), files);
    });
    documentRef.body.appendChild(input);
    input.click();
  }

  destroy() {
    const matchers = this.quill.clipboard.matchers;
    const at = matchers.findIndex(([, matcher]) => matcher === this.matcher);
    if (at >= 0) matchers.splice(at, 1);
  }
}

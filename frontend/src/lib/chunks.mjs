// Split one big change (a paste of a whole book) into several ops that each fit in a WebSocket
// message the server accepts, so it lands whole instead of being refused whole. Applied one after
// the other, the pieces make exactly the original change.

const encoder = new TextEncoder();

/** Bytes of a value as JSON on the wire (UTF-8). */
export function jsonBytes(value) {
  return encoder.encode(JSON.stringify(value)).length;
}

function isPlainRetain(op) {
  return typeof op.retain === 'number' && !op.attributes;
}

/** The longest prefix of `text` (from `start`) whose JSON fits in `budget` bytes; at least 1 unit. */
function fittingLength(text, start, budget) {
  let length = Math.max(1, Math.min(text.length - start, Math.floor(budget / 2)));
  // JSON can grow a code unit to 6 bytes (control characters): shrink until it fits.
  while (length > 1 && jsonBytes(text.slice(start, start + length)) > budget) length = Math.floor(length * 0.8);
  // Never cut a surrogate pair in two.
  const last = text.charCodeAt(start + length - 1);
  if (length > 1 && last >= 0xd800 && last <= 0xdbff) length -= 1;
  return length;
}

/**
 * `ops` (a Quill delta's ops) as a list of op lists, each at most `maxBytes` as JSON. Each piece
 * starts with a retain up to where the previous one stopped; trailing plain retains are dropped.
 */
export function splitChange(ops, maxBytes) {
  if (jsonBytes(ops) <= maxBytes) return [ops];
  const pieces = [];
  // Position in the document as the pieces so far leave it.
  let position = 0;
  let current = [];
  let size = 2;

  const start = () => {
    current = position ? [{ retain: position }] : [];
    size = jsonBytes(current);
  };
  const flush = () => {
    while (current.length && isPlainRetain(current[current.length - 1])) current.pop();
    if (current.length) pieces.push(current);
    start();
  };
  const add = (op) => {
    const bytes = jsonBytes(op) + 1;
    if (size + bytes > maxBytes && current.some((o) => !isPlainRetain(o))) flush();
    const last = current[current.length - 1];
    if (isPlainRetain(op) && last && isPlainRetain(last)) last.retain += op.retain;
    else current.push(op);
    size += bytes;
  };

  start();
  for (const op of ops) {
    if (typeof op.insert === 'string') {
      const overhead = jsonBytes({ ...op, insert: '' }) + 1;
      let offset = 0;
      while (offset < op.insert.length) {
        let budget = maxBytes - size - overhead;
        if (budget < 64) {
          flush();
          budget = maxBytes - size - overhead;
        }
        const length = fittingLength(op.insert, offset, budget);
        const piece = { ...op, insert: op.insert.slice(offset, offset + length) };
        current.push(piece);
        size += jsonBytes(piece) + 1;
        offset += length;
        position += length;
      }
    } else if (op.insert !== undefined) {
      add(op);
      position += 1;
    } else if (op.delete) {
      add(op);
    } else {
      add({ ...op });
      position += op.retain;
    }
  }
  flush();
  return pieces;
}

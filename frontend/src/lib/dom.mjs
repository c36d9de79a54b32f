// Tiny DOM helpers shared by the pages' scripts.

/** The first element matching `selector` under `root`. */
export function $(selector, root = document) {
  return root.querySelector(selector);
}

/**
 * Build an element: `class`, `text`, `on<event>` (a listener) and plain attributes in `attrs`
 * (false, null and undefined leave an attribute out; true sets it empty), then the children.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

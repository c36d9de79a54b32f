// The notification bell in the page header: the unread count (live on the editor page, where
// the socket delivers `x-notify`), the latest notifications, and marking them read on opening.
import { api } from './lib/api.mjs';
import { bellLabel, notificationText } from './lib/bell.mjs';
import { $, el } from './lib/dom.mjs';

export function setupBell() {
  const menu = $('#notification-bell');
  if (!menu) return;
  const summary = $('summary', menu);
  const badge = $('[data-unread]', menu);
  const list = $('ul', menu);

  const show = (unread) => {
    const { badge: text, label } = bellLabel(unread);
    badge.textContent = text;
    badge.hidden = !text;
    summary.setAttribute('aria-label', label);
    menu.dataset.unread = String(unread || 0);
  };

  const load = async () => {
    const data = await api('/api/notifications/');
    show(data.unread);
    list.replaceChildren(
      ...data.notifications.map((item) =>
        el(
          'li',
          { class: item.read ? 'notification' : 'notification notification-unread' },
          el('a', { href: `/d/${item.document.id}/`, text: notificationText(item) }),
        ),
      ),
    );
    if (!data.notifications.length) list.append(el('li', { class: 'muted', text: 'Nothing yet.' }));
    return data;
  };

  menu.addEventListener('toggle', async () => {
    if (!menu.open) return;
    const data = await load();
    if (data.unread) show((await api('/api/notifications/read/', { method: 'POST', body: {} })).unread);
  });
  window.addEventListener('collab:notify', (event) => show(event.detail.unread));
  load().catch(() => {});
}

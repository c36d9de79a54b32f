// The notification bell's words: its label for a count, and one line per notification.

/** The bell's accessible label and badge for `unread` notifications. */
export function bellLabel(unread) {
  const count = Number.isInteger(unread) && unread > 0 ? unread : 0;
  return {
    badge: count === 0 ? '' : count > 99 ? '99+' : String(count),
    label: count === 0 ? 'Notifications' : `Notifications, ${count} unread`,
  };
}

/** What a notification says, from the API's item. */
export function notificationText(item) {
  const what = item.reason === 'mention' ? 'mentioned you in' : 'replied in';
  return `${item.author} ${what} “${item.document.title}”: ${item.excerpt}`;
}

// The history page: a paged timeline of editing sessions; any version shown read-only, compared
// with now, or coloured by who wrote it; and "Restore this version" for editors.
import Quill from 'quill';

import contentSchema from '../../documents/schema.json';
import { api } from './lib/api.mjs';
import { $, el } from './lib/dom.mjs';
import { colorForUser } from './lib/colors.mjs';
import { registerFormats } from './lib/formats.mjs';
import {
  authorShares,
  authorshipOps,
  changeSize,
  comparisonOps,
  sessionSummary,
  sizeLabel,
  timeSpan,
} from './lib/history-view.mjs';

const PAGE_SIZE = 20;
const VIEWS = ['version', 'changes', 'authors'];

const Parchment = Quill.import('parchment');
// Marks used only here: what changed since a version, and who wrote each run of text.
Quill.register(new Parchment.ClassAttributor('diff', 'ql-diff', { scope: Parchment.Scope.INLINE }), true);
Quill.register(new Parchment.Attributor('author', 'data-author', { scope: Parchment.Scope.INLINE }), true);

// Versions show the schema's formats as the editor does (the highlight stays Quill's own: the
// authors view tints text with it).
registerFormats(Quill, contentSchema, { palettes: ['color'] });

const FORMATS = [
  'header', 'bold', 'italic', 'underline', 'strike', 'link', 'list', 'blockquote', 'code-block',
  'code', 'color', 'align', 'indent', 'divider', 'diff', 'author', 'background',
];



class HistoryPage {
  constructor(config) {
    this.config = config;
    this.base = `/api/documents/${encodeURIComponent(config.documentId)}/`;
    this.sessions = [];
    this.nextBefore = null;
    this.selected = null; // {version, session}
    this.view = 'version';
    this.shown = null; // {version, old, now}
    this.loadToken = 0;

    this.list = $('#history-sessions');
    this.more = $('#history-more');
    this.status = $('#history-status');
    this.heading = $('#history-heading');
    this.detail = $('#history-detail');
    this.legend = $('#history-legend');
    this.restoreButton = $('#history-restore');
    this.notice = $('#history-notice');
    this.dialog = $('#restore-dialog');

    this.quill = new Quill('#history-viewer', {
      theme: 'snow',
      readOnly: true,
      formats: FORMATS,
      modules: { toolbar: false },
    });
    this.quill.root.setAttribute('aria-label', 'The document at the chosen version');
    this.quill.root.setAttribute('aria-readonly', 'true');

    this.more.addEventListener('click', () => this.loadOlder());
    this.list.addEventListener('click', (event) => {
      const button = event.target.closest('[data-version]');
      if (button) this.select(Number(button.dataset.version));
    });
    for (const tab of document.querySelectorAll('[data-view]')) {
      tab.addEventListener('click', () => this.setView(tab.dataset.view));
    }
    if (this.restoreButton) this.restoreButton.addEventListener('click', () => this.confirmRestore());
    if (this.dialog) {
      $('[data-close]', this.dialog).addEventListener('click', () => this.dialog.close());
      $('[data-confirm]', this.dialog).addEventListener('click', () => this.restore());
    }
    this.reload();
  }

  // --- Timeline ---------------------------------------------------------------------------

  async reload({ selectNewest = true } = {}) {
    this.sessions = [];
    this.nextBefore = null;
    this.list.innerHTML = '';
    await this.loadPage(null);
    if (selectNewest && this.sessions.length) await this.select(this.sessions[0].to_version);
  }

  async loadOlder() {
    if (this.nextBefore === null) return;
    await this.loadPage(this.nextBefore);
  }

  async loadPage(before) {
    this.more.disabled = true;
    this.say('Loading revisions…');
    try {
      const query = `?limit=${PAGE_SIZE}${before === null ? '' : `&before=${before}`}`;
      const data = await api(`${this.base}history/${query}`);
      this.currentVersion = data.version;
      this.nextBefore = data.next_before;
      for (const session of data.sessions) {
        this.sessions.push(session);
        this.list.append(this.renderSession(session));
      }
      this.say(this.sessions.length ? '' : 'No revisions yet.');
    } catch (err) {
      this.say(`Could not load the history: ${err.message}`);
    } finally {
      this.more.hidden = this.nextBefore === null;
      this.more.disabled = false;
      this.markSelected();
    }
  }

  renderSession(session) {
    const author = session.author || {};
    const name = author.name || author.username || 'Unknown';
    const time = el('time', { datetime: session.start, text: timeSpan(session.start, session.end) });
    time.title = new Date(session.end).toLocaleString();
    const button = el(
      'button',
      { type: 'button', class: 'session', 'data-version': String(session.to_version) },
      el('span', { class: 'session-who' },
        el('span', { class: 'author-dot', 'aria-hidden': 'true', style: `--author-color: ${colorForUser(author.id)}` }),
        el('span', { class: 'session-author', text: name }),
        time),
      el('span', { class: 'session-what' },
        el('span', { class: 'session-summary', text: sessionSummary(session) }),
        el('span', { class: 'session-versions', text: `v${session.to_version}` })),
    );
    return el('li', {
      class: 'session-item',
      'data-session': '',
      'data-author': author.username || '',
      'data-kind': session.kind,
      'data-from': String(session.from_version),
      'data-to': String(session.to_version),
    }, button);
  }

  markSelected() {
    for (const button of this.list.querySelectorAll('[data-version]')) {
      const on = this.selected !== null && Number(button.dataset.version) === this.selected.version;
      if (on) button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
    }
  }

  say(text) {
    this.status.textContent = text;
  }

  // --- Preview ----------------------------------------------------------------------------

  async select(version) {
    const session = this.sessions.find((s) => s.to_version === version) || null;
    this.selected = { version, session };
    this.markSelected();
    const token = ++this.loadToken;
    document.body.dataset.historyReady = 'false';
    this.heading.textContent = `Version ${version}`;
    this.detail.textContent = 'Loading…';
    try {
      const [old, now] = await Promise.all([api(`${this.base}versions/${version}/`), api(this.base)]);
      if (token !== this.loadToken) return;
      this.shown = { version, old, now };
      this.currentVersion = now.version;
      this.render();
    } catch (err) {
      if (token !== this.loadToken) return;
      this.detail.textContent = `Could not load version ${version}: ${err.message}`;
    }
  }

  setView(view) {
    if (!VIEWS.includes(view)) return;
    this.view = view;
    this.render();
  }

  render() {
    for (const tab of document.querySelectorAll('[data-view]')) {
      tab.setAttribute('aria-pressed', String(tab.dataset.view === this.view));
    }
    document.body.dataset.historyView = this.view;
    if (!this.shown) return;
    const { version, old, now } = this.shown;
    const session = this.selected && this.selected.session;
    const isCurrent = version === now.version;
    const who = session && session.author && (session.author.name || session.author.username);
    this.heading.textContent = isCurrent ? `Version ${version} (current)` : `Version ${version}`;
    let what = '';
    if (who && session.kind === 'restore') what = `After ${who} restored version ${session.restored_from}`;
    else if (who) what = session.kind === 'create' ? `Created by ${who}` : `After ${who}'s edits`;
    this.detail.textContent = [
      what,
      session ? timeSpan(session.start, session.end) : '',
    ].filter(Boolean).join(' · ');

    const content = old.content || [];
    this.legend.innerHTML = '';
    this.legend.dataset.view = this.view;
    if (this.view === 'changes') {
      this.quill.setContents(comparisonOps(content, now.content || []), 'api');
      const size = changeSize(content, now.content || []);
      this.legend.append(
        el('span', { class: 'legend-item' }, el('span', { class: 'ql-diff-added', text: 'Added since' })),
        el('span', { class: 'legend-item' }, el('span', { class: 'ql-diff-removed', text: 'Removed since' })),
        el('span', {
          class: 'legend-note',
          text: isCurrent || (!size.inserted && !size.deleted)
            ? 'No changes between this version and now.'
            : `From version ${version} to now (v${now.version}): ${sizeLabel(size)} characters.`,
        }),
      );
    } else if (this.view === 'authors') {
      this.quill.setContents(authorshipOps(content, old.authorship || [], colorForUser), 'api');
      const total = Math.max(1, (old.authorship || []).reduce((n, op) => n + (typeof op.insert === 'string' ? op.insert.length : 1), 0));
      const list = el('ul', { class: 'author-legend', 'aria-label': 'Who wrote this version' });
      for (const { id, chars } of authorShares(old.authorship)) {
        if (id === null) continue;
        const person = old.authors[id] || {};
        const name = person.name || person.username || `User ${id}`;
        list.append(el('li', { 'data-legend-author': id },
          el('span', { class: 'author-swatch', 'aria-hidden': 'true', style: `--author-color: ${colorForUser(id)}` }),
          el('span', { class: 'author-name', text: name }),
          el('span', { class: 'muted', text: `${Math.round((100 * chars) / total)}%` })));
      }
      this.legend.append(list);
    } else {
      this.quill.setContents(content, 'api');
    }

    if (this.restoreButton) {
      this.restoreButton.disabled = isCurrent;
      this.restoreButton.textContent = isCurrent ? 'This is the current version' : 'Restore this version';
    }
    document.body.dataset.historyReady = 'true';
  }

  // --- Restore ----------------------------------------------------------------------------

  confirmRestore() {
    if (!this.shown || !this.dialog) return;
    $('[data-restore-version]', this.dialog).textContent = String(this.shown.version);
    $('.form-error', this.dialog).hidden = true;
    this.dialog.showModal();
    $('[data-close]', this.dialog).focus();
  }

  async restore() {
    const confirm = $('[data-confirm]', this.dialog);
    const error = $('.form-error', this.dialog);
    const version = this.shown.version;
    confirm.disabled = true;
    try {
      const result = await api(`${this.base}restore/`, { method: 'POST', body: { version } });
      this.dialog.close();
      this.showNotice(`Restored version ${version}. The document is now at version ${result.version}; everyone editing sees it now.`);
      await this.reload();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      confirm.disabled = false;
    }
  }

  showNotice(text) {
    this.notice.textContent = text;
    this.notice.hidden = false;
  }
}

const node = document.getElementById('history-config');
window.collabHistory = new HistoryPage(JSON.parse(node.textContent));

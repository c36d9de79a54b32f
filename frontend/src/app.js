// Behaviour shared by every page: rename, delete with confirmation, the share dialog, importing a
// file as a new document, and closing drop-down menus.
import { setupBell } from './bell.js';
import { api } from './lib/api.mjs';
import { $, el } from './lib/dom.mjs';

const ROLE_LABELS = {
  owner: 'Owner', editor: 'Can edit', suggester: 'Can suggest', commenter: 'Can comment', viewer: 'Can view',
};



function documentUrl(id, suffix = '') {
  return `/api/documents/${encodeURIComponent(id)}/${suffix}`;
}

function showError(node, err) {
  if (!node) return;
  node.textContent = err ? err.message || String(err) : '';
  node.hidden = !err;
}

function setBusy(form, busy) {
  for (const control of form.querySelectorAll('button, input, select')) control.disabled = busy;
}

// --- Rename ---------------------------------------------------------------------------------

function setupRename() {
  const dialog = $('#rename-dialog');
  if (!dialog) return;
  const form = $('form', dialog);
  const input = $('input[name=title]', dialog);
  const error = $('.form-error', dialog);
  let current = null;

  document.addEventListener('click', (event) => {
    const button = event.target.closest('[data-action=rename]');
    if (!button) return;
    current = button;
    input.value = button.dataset.title || '';
    showError(error, null);
    dialog.showModal();
    input.select();
  });
  $('[data-close]', dialog).addEventListener('click', () => dialog.close());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    setBusy(form, true);
    try {
      const data = await api(documentUrl(current.dataset.documentId), { method: 'PATCH', body: { title: input.value } });
      const title = (data && data.title) || input.value.trim() || 'Untitled';
      current.dataset.title = title;
      const row = current.closest('[data-document-row]');
      const link = row && $('[data-document-title]', row);
      if (link) link.textContent = title;
      dialog.close();
    } catch (err) {
      showError(error, err);
    } finally {
      setBusy(form, false);
    }
  });
}

function setupTitleField() {
  const input = $('#doc-title');
  if (!input) return;
  let saved = input.value;
  // Renamed elsewhere (x-title): show it, unless this person is typing a title of their own.
  window.addEventListener('collab:title', (event) => {
    const { title } = event.detail;
    const typing = document.activeElement === input && input.value !== saved;
    saved = title;
    if (!typing) input.value = title;
    document.title = `${title} · collab`;
  });
  if (input.readOnly) return;
  const error = $('#title-error');
  const save = async () => {
    const title = input.value;
    if (title === saved) return;
    input.setAttribute('aria-busy', 'true');
    try {
      const data = await api(documentUrl(input.dataset.documentId), { method: 'PATCH', body: { title } });
      saved = (data && data.title) || title.trim() || 'Untitled';
      input.value = saved;
      document.title = `${saved} · collab`;
      showError(error, null);
    } catch (err) {
      showError(error, err);
      input.value = saved;
    } finally {
      input.removeAttribute('aria-busy');
    }
  };
  input.addEventListener('change', save);
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      input.blur();
      save();
    } else if (event.key === 'Escape') {
      input.value = saved;
      input.blur();
    }
  });
}

// --- Delete ---------------------------------------------------------------------------------

function setupDelete() {
  const dialog = $('#delete-dialog');
  if (!dialog) return;
  const name = $('[data-delete-title]', dialog);
  const confirm = $('[data-confirm]', dialog);
  const error = $('.form-error', dialog);
  let current = null;

  document.addEventListener('click', (event) => {
    const button = event.target.closest('[data-action=delete]');
    if (!button) return;
    current = button;
    name.textContent = button.dataset.title || 'this document';
    showError(error, null);
    dialog.showModal();
    $('[data-close]', dialog).focus();
  });
  $('[data-close]', dialog).addEventListener('click', () => dialog.close());
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    try {
      await api(documentUrl(current.dataset.documentId), { method: 'DELETE' });
      if (current.dataset.redirect) {
        window.location.assign(current.dataset.redirect);
        return;
      }
      const row = current.closest('[data-document-row]');
      if (row) row.remove();
      dialog.close();
      const list = $('[data-document-list]');
      if (list && !list.querySelector('[data-document-row]')) window.location.reload();
    } catch (err) {
      showError(error, err);
    } finally {
      confirm.disabled = false;
    }
  });
}

// --- Share ----------------------------------------------------------------------------------

class ShareDialog {
  constructor(dialog) {
    this.dialog = dialog;
    this.documentId = dialog.dataset.documentId;
    this.currentUser = dialog.dataset.username;
    this.members = $('#share-members', dialog);
    this.invites = $('#share-invites', dialog);
    this.error = $('#share-error', dialog);
    this.status = $('#share-status', dialog);
    this.addForm = $('#share-add-form', dialog);
    this.inviteForm = $('#share-invite-form', dialog);
    this.invitations = $('#share-invitations', dialog);
    this.invitationForm = $('#share-invitation-form', dialog);

    this.addForm.addEventListener('submit', (event) => this.addMember(event));
    this.invitationForm.addEventListener('submit', (event) => this.sendInvitation(event));
    this.inviteForm.addEventListener('submit', (event) => this.createInvite(event));
    $('[data-close]', dialog).addEventListener('click', () => dialog.close());
    document.addEventListener('click', (event) => {
      if (event.target.closest('[data-action=share]')) this.open();
    });
  }

  async open() {
    showError(this.error, null);
    this.say('');
    this.dialog.showModal();
    $('input[name=identifier]', this.addForm).focus();
    await Promise.all([this.loadMembers(), this.loadInvites(), this.loadInvitations()]);
  }

  say(text) {
    this.status.textContent = text;
  }

  async run(task) {
    showError(this.error, null);
    try {
      return await task();
    } catch (err) {
      showError(this.error, err);
      return undefined;
    }
  }

  async loadMembers() {
    await this.run(async () => {
      const data = await api(documentUrl(this.documentId, 'members/'));
      this.renderMembers(data.members || []);
    });
  }

  renderMembers(members) {
    this.members.innerHTML = '';
    for (const member of members) {
      const who = el(
        'div',
        { class: 'member-who' },
        el('span', { class: 'member-name', text: member.name || member.username }),
        el('span', { class: 'member-detail', text: [member.username, member.email].filter(Boolean).join(' · ') }),
      );
      let controls;
      if (member.role === 'owner') {
        controls = el('span', { class: 'role-badge', 'data-role': 'owner', text: ROLE_LABELS.owner });
      } else {
        const select = el(
          'select',
          { 'aria-label': `Role for ${member.name || member.username}`, 'data-member-role': member.username },
          ...['editor', 'suggester', 'commenter', 'viewer'].map((role) =>
            el('option', { value: role, text: ROLE_LABELS[role], selected: member.role === role }),
          ),
        );
        select.addEventListener('change', () => this.changeRole(member, select));
        const remove = el('button', {
          type: 'button',
          class: 'button button-quiet button-small',
          'aria-label': `Remove ${member.name || member.username}`,
          'data-member-remove': member.username,
          text: 'Remove',
        });
        remove.addEventListener('click', () => this.removeMember(member));
        controls = el('div', { class: 'member-controls' }, select, remove);
      }
      this.members.append(el('li', { class: 'member', 'data-member': member.username }, who, controls));
    }
  }

  async addMember(event) {
    event.preventDefault();
    const form = this.addForm;
    const identifier = $('input[name=identifier]', form).value.trim();
    const role = $('select[name=role]', form).value;
    if (!identifier) return;
    setBusy(form, true);
    await this.run(async () => {
      // The same answer whether or not the person has an account, so accounts cannot be probed.
      const answer = await api(documentUrl(this.documentId, 'members/'), {
        method: 'POST',
        body: { username: identifier, role },
      });
      $('input[name=identifier]', form).value = '';
      this.say(answer.message);
      await this.loadMembers();
    });
    setBusy(form, false);
    $('input[name=identifier]', form).focus();
  }

  async changeRole(member, select) {
    select.disabled = true;
    await this.run(async () => {
      await api(documentUrl(this.documentId, `members/${encodeURIComponent(member.username)}/`), {
        method: 'PATCH',
        body: { role: select.value },
      });
      member.role = select.value;
      this.say(`${member.name || member.username} ${select.value === 'editor' ? 'can now edit' : 'can now only view'}.`);
    });
    select.value = member.role;
    select.disabled = false;
  }

  async removeMember(member) {
    await this.run(async () => {
      await api(documentUrl(this.documentId, `members/${encodeURIComponent(member.username)}/`), { method: 'DELETE' });
      this.say(`${member.name || member.username} no longer has access.`);
      await this.loadMembers();
      $('input[name=identifier]', this.addForm).focus();
    });
  }

  async loadInvites() {
    await this.run(async () => {
      const data = await api(documentUrl(this.documentId, 'invites/'));
      this.renderInvites((data.invites || []).filter((invite) => !invite.revoked_at));
    });
  }

  renderInvites(invites) {
    this.invites.innerHTML = '';
    if (!invites.length) {
      this.invites.append(el('li', { class: 'muted', text: 'No invite links. Anyone with a link can join with its role.' }));
      return;
    }
    for (const invite of invites) {
      const url = new URL(invite.url || `/invite/${invite.token}/`, window.location.origin).href;
      const field = el('input', {
        type: 'text',
        readonly: true,
        value: url,
        class: 'invite-url',
        'aria-label': `Invite link (${ROLE_LABELS[invite.role] || invite.role})`,
      });
      field.addEventListener('focus', () => field.select());
      const copy = el('button', { type: 'button', class: 'button button-small', text: 'Copy' });
      copy.addEventListener('click', async () => {
        try {
          await navigator.clipboard.writeText(url);
          this.say('Link copied.');
        } catch (_err) {
          field.select();
          this.say('Press Ctrl+C to copy the selected link.');
        }
      });
      const revoke = el('button', {
        type: 'button',
        class: 'button button-quiet button-small',
        'data-invite-revoke': invite.token,
        text: 'Revoke',
      });
      revoke.addEventListener('click', () => this.revokeInvite(invite));
      this.invites.append(
        el(
          'li',
          { class: 'invite', 'data-invite': invite.token },
          el('span', { class: 'role-badge', 'data-role': invite.role, text: ROLE_LABELS[invite.role] || invite.role }),
          field,
          el('div', { class: 'member-controls' }, copy, revoke),
        ),
      );
    }
  }

  async createInvite(event) {
    event.preventDefault();
    const role = $('select[name=role]', this.inviteForm).value;
    setBusy(this.inviteForm, true);
    await this.run(async () => {
      await api(documentUrl(this.documentId, 'invites/'), { method: 'POST', body: { role } });
      this.say('Invite link created.');
      await this.loadInvites();
      const field = $('.invite-url', this.invites);
      if (field) field.focus();
    });
    setBusy(this.inviteForm, false);
  }

  async loadInvitations() {
    await this.run(async () => {
      const data = await api(documentUrl(this.documentId, 'invitations/'));
      this.renderInvitations(data.invitations || []);
    });
  }

  renderInvitations(invitations) {
    this.invitations.innerHTML = '';
    if (!invitations.length) {
      this.invitations.append(el('li', { class: 'muted', text: 'No invitations waiting.' }));
      return;
    }
    for (const invitation of invitations) {
      const withdraw = el('button', {
        type: 'button',
        class: 'button button-quiet button-small',
        'aria-label': `Withdraw the invitation to ${invitation.email}`,
        text: 'Withdraw',
      });
      withdraw.addEventListener('click', () => this.revokeInvitation(invitation));
      const expires = new Date(invitation.expires_at).toLocaleDateString();
      this.invitations.append(
        el(
          'li',
          { class: 'member', 'data-invitation': invitation.email },
          el(
            'div',
            { class: 'member-who' },
            el('span', { class: 'member-name', text: invitation.email }),
            el('span', { class: 'member-detail', text: `${ROLE_LABELS[invitation.role]} · waiting until ${expires}` }),
          ),
          el('div', { class: 'member-controls' }, withdraw),
        ),
      );
    }
  }

  async sendInvitation(event) {
    event.preventDefault();
    const form = this.invitationForm;
    const email = $('input[name=email]', form).value.trim();
    const role = $('select[name=role]', form).value;
    if (!email) return;
    setBusy(form, true);
    await this.run(async () => {
      await api(documentUrl(this.documentId, 'invitations/'), { method: 'POST', body: { email, role } });
      $('input[name=email]', form).value = '';
      this.say(`Invitation sent to ${email}.`);
      await this.loadInvitations();
    });
    setBusy(form, false);
  }

  async revokeInvitation(invitation) {
    await this.run(async () => {
      await api(documentUrl(this.documentId, `invitations/${invitation.id}/`), { method: 'DELETE' });
      this.say(`The invitation to ${invitation.email} was withdrawn; its link no longer works.`);
      await this.loadInvitations();
    });
  }

  async revokeInvite(invite) {
    await this.run(async () => {
      await api(documentUrl(this.documentId, `invites/${encodeURIComponent(invite.token)}/`), { method: 'DELETE' });
      this.say('Invite link revoked; it no longer works.');
      await this.loadInvites();
    });
  }
}

// --- Import ---------------------------------------------------------------------------------

function setupImport() {
  const input = $('#import-file');
  if (!input) return;
  const status = $('#import-status');
  const error = $('#import-error');
  input.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    showError(error, null);
    status.textContent = `Importing ${file.name}…`;
    input.disabled = true;
    try {
      const form = new FormData();
      form.append('file', file, file.name);
      const created = await api('/api/documents/import/', { method: 'POST', body: form });
      status.textContent = `Imported “${created.title}”. Opening…`;
      window.location.assign(`/d/${encodeURIComponent(created.id)}/`);
    } catch (err) {
      status.textContent = '';
      showError(error, err);
    } finally {
      input.disabled = false;
      input.value = '';
    }
  });
}

// --- Menus ----------------------------------------------------------------------------------

function setupMenus() {
  // <details> menus close on a click elsewhere, on choosing an item, and on Escape.
  document.addEventListener('click', (event) => {
    for (const menu of document.querySelectorAll('details.menu[open]')) {
      if (!menu.contains(event.target) || event.target.closest('.menu-list a')) menu.open = false;
    }
  });
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    for (const menu of document.querySelectorAll('details.menu[open]')) {
      menu.open = false;
      $('summary', menu).focus();
    }
  });
}

function setupShare() {
  const dialog = $('#share-dialog');
  if (dialog) new ShareDialog(dialog);
}

setupRename();
setupTitleField();
setupDelete();
setupShare();
setupImport();
setupMenus();
setupBell();

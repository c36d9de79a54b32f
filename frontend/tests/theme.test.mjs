import assert from 'node:assert/strict';
import { test } from 'node:test';

import { effectiveTheme, toggledChoice } from '../src/lib/theme.mjs';

test('the system decides until the user chooses', () => {
  assert.equal(effectiveTheme(null, true), 'dark');
  assert.equal(effectiveTheme(null, false), 'light');
  assert.equal(effectiveTheme('light', true), 'light');
  assert.equal(effectiveTheme('dark', false), 'dark');
  assert.equal(effectiveTheme('purple', false), 'light');
});

test('toggling to what the system asks for follows the system again', () => {
  assert.equal(toggledChoice('light', false), 'dark');
  assert.equal(toggledChoice('dark', false), null);
  assert.equal(toggledChoice('dark', true), 'light');
  assert.equal(toggledChoice('light', true), null);
});

// Sign in and sign up. On success the caller gets the signed-in client.
import type { RoomcastClient, User } from '../../client-sdk/src/index.js';
import { button, field, form, h } from './dom.js';
import { describeError } from './format.js';

export interface AuthViewOptions {
  client: RoomcastClient;
  /** Shown above the form (e.g. why the last session ended). */
  notice?: string;
  onSignedIn(user: User): void;
}

export function authView({ client, notice, onSignedIn }: AuthViewOptions): HTMLElement {
  let mode: 'signin' | 'signup' = 'signin';
  const username = h('input', { attrs: { name: 'username', autocomplete: 'username', required: true } });
  const email = h('input', { attrs: { name: 'email', type: 'email', autocomplete: 'email' } });
  const password = h('input', { attrs: { name: 'password', type: 'password', autocomplete: 'current-password', required: true } });
  const emailField = field('Email', email, { class: 'signup-only' });
  const status = h('p', { class: 'form-error', attrs: { role: 'alert' } });
  const title = h('h1', {}, 'Sign in');
  const submit = h('button', { class: 'primary', attrs: { type: 'submit' } }, 'Sign in');
  const toggle = button('Create an account', () => setMode(mode === 'signin' ? 'signup' : 'signin'), { class: 'link' });
  const userLabel = h('span', { class: 'field-label' }, 'Username or email');

  function setMode(next: typeof mode): void {
    mode = next;
    const signup = mode === 'signup';
    title.textContent = signup ? 'Create an account' : 'Sign in';
    submit.textContent = signup ? 'Sign up' : 'Sign in';
    toggle.textContent = signup ? 'I already have an account' : 'Create an account';
    userLabel.textContent = signup ? 'Username' : 'Username or email';
    emailField.hidden = !signup;
    email.required = signup;
    password.autocomplete = signup ? 'new-password' : 'current-password';
    status.textContent = '';
  }

  const authForm = form(
    () => void submitForm(),
    { class: 'auth-form', attrs: { 'aria-labelledby': 'auth-title' } },
    title,
    notice ? h('p', { class: 'notice', attrs: { role: 'status' } }, notice) : null,
    h('label', { class: 'field' }, userLabel, username),
    emailField,
    field('Password', password),
    status,
    h('div', { class: 'row' }, submit, toggle),
  );
  title.id = 'auth-title';
  setMode('signin');

  async function submitForm(): Promise<void> {
    submit.disabled = true;
    status.textContent = '';
    try {
      const user =
        mode === 'signup'
          ? await client.register({ username: username.value.trim(), email: email.value.trim(), password: password.value })
          : await client.login(username.value.trim(), password.value);
      onSignedIn(user);
    } catch (err) {
      status.textContent = describeError(err);
      submit.disabled = false;
    }
  }

  queueMicrotask(() => username.focus());
  return h('main', { class: 'auth' }, h('p', { class: 'brand' }, 'Roomcast'), authForm);
}

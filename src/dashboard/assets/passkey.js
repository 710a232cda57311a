'use strict';
// Passkey ceremonies (WebAuthn) for the sign-in and settings pages. Served from our own origin:
// the Content-Security-Policy allows no inline script, and only these pages allow this file.
// The browser does the base64url work (parse*OptionsFromJSON, toJSON).

async function postJson(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.message || 'The request was refused. Reload the page and try again.');
  return data;
}

function showProblem(message) {
  const element = document.getElementById('passkey-problem');
  if (element === null) return;
  element.textContent = message;
  element.hidden = false;
}

const signInButton = document.getElementById('passkey-sign-in');
if (signInButton !== null) {
  signInButton.addEventListener('click', async () => {
    try {
      const { options } = await postJson('/dashboard/login/passkey/options', {});
      const credential = await navigator.credentials.get({
        publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
      });
      const result = await postJson('/dashboard/login/passkey', { response: credential.toJSON() });
      window.location.assign(result.redirect);
    } catch (error) {
      showProblem(error instanceof Error ? error.message : String(error));
    }
  });
}

const addForm = document.getElementById('add-passkey');
if (addForm !== null) {
  addForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const csrfToken = addForm.querySelector('input[name=csrf_token]').value;
    const name = addForm.querySelector('input[name=name]').value;
    try {
      const { options } = await postJson('/dashboard/settings/passkeys/options', { csrf_token: csrfToken });
      const credential = await navigator.credentials.create({
        publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options),
      });
      await postJson('/dashboard/settings/passkeys', { csrf_token: csrfToken, name, response: credential.toJSON() });
      window.location.assign('/dashboard/settings');
    } catch (error) {
      showProblem(error instanceof Error ? error.message : String(error));
    }
  });
}

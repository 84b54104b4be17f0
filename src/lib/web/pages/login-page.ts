import {csrfField} from '../csrf.js'
import {html, type Html} from '../html.js'
import {layout, type Frame} from './layout.js'

export interface LoginView {
  /** The login form's own CSRF token (also in a cookie: there is no session yet). */
  loginToken: string
  /** A line above the form: wrong password, too many attempts, logged out. */
  message: {kind: 'ok' | 'error'; text: string} | null
}

export function loginPage(frame: Frame, view: LoginView): Html {
  const {t} = frame
  const message =
    view.message === null ? '' : html`<p class="flash flash-${view.message.kind}" role="alert">${view.message.text}</p>`
  return layout(
    frame,
    t('login.title'),
    html`<section class="login card">
<h1>${t('login.title')}</h1>
${message}
<form method="post" action="/login">
<input type="hidden" name="${csrfField}" value="${view.loginToken}">
<label for="password">${t('login.password')}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
<button type="submit" class="primary">${t('login.submit')}</button>
</form>
</section>`,
  )
}

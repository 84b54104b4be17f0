import type {UserWithCredentials} from '../../users/user-service.js'
import {html, type Html} from '../html.js'
import {csrfInput, layout, type Frame} from './layout.js'
import {credentialsList} from './user-page.js'
import {userPath} from './view-format.js'

/** What the add form was sent with, to show it again beside an error. */
export type AddUserValues = Partial<
  Record<'name' | 'monthly' | 'total' | 'reset' | 'expires' | 'plan' | 'note', string>
>

export function addUserPage(
  frame: Frame,
  plans: string[],
  values: AddUserValues = {},
  error: string | null = null,
): Html {
  const {t} = frame
  const planOptions = plans.map(
    (plan) => html`<option value="${plan}" ${values.plan === plan ? html`selected` : ''}>${plan}</option>`,
  )
  return layout(
    frame,
    t('add.title'),
    html`<p class="crumbs"><a href="/">← ${t('common.back')}</a></p>
<section class="card narrow">
<h1>${t('add.title')}</h1>
${error === null ? '' : html`<p class="flash flash-error" role="alert">${error}</p>`}
<form method="post" action="/add" class="stacked">${csrfInput(frame)}
<label>${t('add.name')}<input name="name" required maxlength="64" pattern="[A-Za-z0-9._@\\-]{1,64}" autocomplete="off" autocapitalize="off" spellcheck="false" value="${values.name ?? ''}"></label>
<p class="hint">${t('add.nameHint')}</p>
<div class="fields">
<label>${t('add.monthly')}<input name="monthly" placeholder="100, 512M" value="${values.monthly ?? ''}"></label>
<label>${t('add.total')}<input name="total" placeholder="0" value="${values.total ?? ''}"></label>
<label>${t('add.reset')}<input name="reset" placeholder="monthly:1, weekly:mon" value="${values.reset ?? ''}"></label>
<label>${t('add.expires')}<input name="expires" placeholder="30d, 2025-12-31" value="${values.expires ?? ''}"></label>
<label>${t('add.plan')}<select name="plan"><option value="">${t('add.noPlan')}</option>${planOptions}</select></label>
<label>${t('add.note')}<input name="note" maxlength="200" value="${values.note ?? ''}"></label>
</div>
<p class="hint">${t('add.hint')}</p>
<button type="submit" class="primary">${t('add.submit')}</button>
</form>
</section>`,
  )
}

export function createdPage(frame: Frame, user: UserWithCredentials): Html {
  const {t} = frame
  return layout(
    frame,
    t('created.title', {name: user.name}),
    html`<section class="card narrow">
<h1>${t('created.title', {name: user.name})}</h1>
<p class="flash flash-warn">${t('created.once')}</p>
${credentialsList(user.credentials, t)}
<p class="actions-row"><a class="button primary" href="${userPath(user.name)}">${t('created.open', {name: user.name})}</a><a class="button" href="/add">${t('nav.addUser')}</a></p>
</section>`,
  )
}

export function removePage(frame: Frame, name: string): Html {
  const {t} = frame
  return layout(
    frame,
    t('remove.title', {name}),
    html`<section class="card narrow">
<h1>${t('remove.title', {name})}</h1>
<p>${t('remove.body', {name})}</p>
<form method="post" action="${userPath(name, 'remove')}" class="actions-row">${csrfInput(frame)}<button type="submit" class="danger">${t('remove.confirm', {name})}</button><a class="button" href="${userPath(name)}">${t('common.cancel')}</a></form>
</section>`,
  )
}

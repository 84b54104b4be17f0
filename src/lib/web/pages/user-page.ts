import type {UserDetail} from '../../users/user-service.js'
import {cumulativeLine, dailyBars, usageBar, type ChartDay} from '../charts.js'
import {html, type Html} from '../html.js'
import {en, type MessageKey, type Translate} from '../i18n/messages.js'
import {statusBadge} from './dashboard-page.js'
import {csrfInput, layout, type Frame} from './layout.js'
import {formatDate, formatInstant, formatQuota, formatSize, percentUsed, userPath} from './view-format.js'

export interface UserPageView {
  user: UserDetail
  /** The current period's days so far, oldest first. */
  periodDays: ChartDay[]
  /** Days in the whole current period. */
  periodLength: number
  plans: string[]
  /** The user's subscription and page, as whole URLs, and the subscription's QR code. */
  subscription: {url: string; pageUrl: string; qr: Html}
  timeZone: string
}

function stat(label: string, value: Html | string, extra: Html | string = ''): Html {
  return html`<div class="stat"><span class="stat-label">${label}</span><strong class="stat-value">${value}</strong>${extra}</div>`
}

function forecastText(user: UserDetail, t: Translate, timeZone: string): string {
  if (user.allowance === 0) return t('user.forecastUnlimited')
  if (user.periodUsed >= user.allowance) return t('user.forecastUsedUp')
  if (user.forecastExhaustedAt === null) return t('user.forecastNone')
  return t('user.forecastAt', {date: formatInstant(user.forecastExhaustedAt, timeZone)})
}

function describeDay(day: ChartDay, t: Translate): string {
  return `${day.day}: ${formatSize(day.total)} (${t('user.chartUp')} ${formatSize(day.up)}, ${t('user.chartDown')} ${formatSize(day.down)})`
}

function charts(view: UserPageView, t: Translate): Html {
  const {user} = view
  const days = user.last30Days
  const max = Math.max(0, ...days.map((day) => day.total))
  const last30 =
    max === 0
      ? html`<p class="empty">${t('user.chartEmpty')}</p>`
      : html`<div class="chart-box"><span class="chart-max">${formatSize(max)}</span>${dailyBars(days, (day) => describeDay(day, t))}<div class="chart-axis"><span>${days[0]?.day.slice(5)}</span><span>${days[Math.floor(days.length / 2)]?.day.slice(5)}</span><span>${days[days.length - 1]?.day.slice(5)}</span></div><div class="legend"><span class="key key-down"></span>${t('user.chartDown')}<span class="key key-up"></span>${t('user.chartUp')}</div></div>`
  const used = view.periodDays.reduce((sum, day) => sum + day.total, 0)
  const top = Math.max(user.allowance, used)
  const period = html`<div class="chart-box"><span class="chart-max">${formatSize(Math.round(top * 1.05))}</span>${cumulativeLine(
    view.periodDays.map((day) => day.total),
    view.periodLength,
    user.allowance,
  )}<div class="chart-axis"><span>${formatDate(user.periodStart, view.timeZone).slice(5)}</span><span>${user.periodEnd === null ? '' : formatDate(user.periodEnd, view.timeZone).slice(5)}</span></div><div class="legend"><span class="key key-used"></span>${t('user.chartUsed')} ${formatSize(used)}${
    user.allowance > 0
      ? html`<span class="key key-allowance"></span>${t('user.chartAllowance')} ${formatSize(user.allowance)}`
      : ''
  }</div></div>`
  return html`<section class="grid-2">
<div class="card"><h2>${t('user.last30')}</h2>${last30}</div>
<div class="card"><h2>${t('user.thisPeriod')}</h2>${period}<p class="forecast"><strong>${t('user.forecast')}:</strong> ${forecastText(user, t, view.timeZone)}</p></div>
</section>`
}

function limits(view: UserPageView, t: Translate): Html {
  const {user} = view
  const rows: Array<[MessageKey, string]> = [
    ['user.plan', user.plan ?? t('common.none')],
    ['user.monthlyQuota', formatQuota(user.monthlyQuota, t)],
    ['user.topupsThisPeriod', formatSize(user.topups)],
    ['user.totalQuota', formatQuota(user.totalQuota, t)],
    ['user.reset', user.reset],
    ['user.maxIps', user.maxIps === null ? t('common.none') : String(user.maxIps)],
    ['user.inbounds', user.inbounds === null ? t('user.inboundsAll') : user.inbounds.join(', ')],
    ['user.expires', user.expiresAt === null ? t('common.never') : formatInstant(user.expiresAt, view.timeZone)],
    ['user.note', user.note ?? t('common.none')],
  ]
  return html`<div class="card"><h2>${t('user.limits')}</h2><dl class="facts">${rows.map(([key, value]) => html`<dt>${t(key)}</dt><dd>${value}</dd>`)}</dl></div>`
}

export function credentialsList(credentials: NonNullable<UserDetail['credentials']>, t: Translate): Html {
  const rows: Array<[MessageKey, string]> = [
    ['user.uuid', credentials.uuid],
    ['user.password', credentials.password],
    ['user.password16', credentials.password16],
  ]
  return html`<dl class="secrets">${rows.map(
    ([key, value]) =>
      html`<dt>${t(key)}</dt><dd><code>${value}</code><button type="button" class="copy" data-copy="${value}" data-copied="${t('common.copied')}" hidden>${t('common.copy')}</button></dd>`,
  )}</dl>`
}

function credentials(view: UserPageView, t: Translate): Html {
  const {user} = view
  const body =
    user.credentials === undefined
      ? html`<a class="button" href="${userPath(user.name)}?credentials=show#credentials">${t('user.showCredentials')}</a>`
      : html`${credentialsList(user.credentials, t)}<a class="button" href="${userPath(user.name)}">${t('user.hideCredentials')}</a>`
  return html`<div class="card" id="credentials"><h2>${t('user.credentials')}</h2>${body}</div>`
}

function subscription(frame: Frame, view: UserPageView): Html {
  const {t} = frame
  const {url, pageUrl, qr} = view.subscription
  const line = (label: string, text: string) =>
    html`<dt>${label}</dt><dd><code class="break">${text}</code><button type="button" class="copy" data-copy="${text}" data-copied="${t('common.copied')}" hidden>${t('common.copy')}</button></dd>`
  return html`<div class="card" id="subscription"><h2>${t('user.subscription')}</h2><p class="hint">${t('user.subscriptionHint')}</p>
<div class="share"><div class="qr" role="img" aria-label="${t('portal.qr', {what: t('user.subscriptionUrl')})}">${qr}</div>
<dl class="secrets">${line(t('user.subscriptionUrl'), url)}${line(t('user.pageUrl'), pageUrl)}</dl>
<form method="post" action="${userPath(view.user.name, 'rotate-link')}" class="inline" data-confirm="${t('user.rotateHint')}">${csrfInput(frame)}<button type="submit">${t('user.rotate')}</button></form>
<p class="hint">${t('user.rotateHint')}</p></div></div>`
}

/** An event's kind in the reader's language; a kind this page does not know is shown as stored. */
function eventKind(kind: string, t: Translate): string {
  const key = `event.${kind}`
  return key in en ? t(key as MessageKey) : kind
}

function statusName(status: string | null, t: Translate): string {
  return status === null ? t('common.none') : t(`status.${status}` as MessageKey)
}

function history(view: UserPageView, t: Translate): Html {
  const {user} = view
  const topups =
    user.topupHistory.length === 0
      ? html`<p class="empty">${t('user.noTopups')}</p>`
      : html`<table class="table stack"><thead><tr><th scope="col">${t('user.when')}</th><th scope="col" class="num">${t('user.amount')}</th><th scope="col">${t('user.note')}</th></tr></thead><tbody>${user.topupHistory.map(
          (topup) =>
            html`<tr><td data-label="${t('user.when')}">${formatInstant(topup.at, view.timeZone)}</td><td data-label="${t('user.amount')}" class="num">${formatSize(topup.bytes)}</td><td data-label="${t('user.note')}">${topup.note ?? ''}</td></tr>`,
        )}</tbody></table>`
  const events =
    user.events.length === 0
      ? html`<p class="empty">${t('user.noEvents')}</p>`
      : html`<table class="table stack"><thead><tr><th scope="col">${t('user.when')}</th><th scope="col">${t('user.what')}</th><th scope="col">${t('user.change')}</th><th scope="col">${t('user.statusReason')}</th><th scope="col">${t('user.by')}</th></tr></thead><tbody>${user.events.map(
          (event) =>
            html`<tr><td data-label="${t('user.when')}">${formatInstant(event.at, view.timeZone)}</td><td data-label="${t('user.what')}">${eventKind(event.kind, t)}</td><td data-label="${t('user.change')}">${
              event.from === null && event.to === null
                ? ''
                : `${statusName(event.from, t)} → ${statusName(event.to, t)}`
            }</td><td data-label="${t('user.statusReason')}">${event.reason ?? ''}</td><td data-label="${t('user.by')}">${event.actor}</td></tr>`,
        )}</tbody></table>`
  return html`<section class="grid-2"><div class="card"><h2>${t('user.events')}</h2>${events}</div><div class="card"><h2>${t('user.topups')}</h2>${topups}</div></section>`
}

function actions(frame: Frame, view: UserPageView): Html {
  const {t} = frame
  const {user} = view
  const base = userPath(user.name)
  const plans = view.plans.map((plan) => html`<option value="${plan}">${plan}</option>`)
  const enable =
    user.status === 'active'
      ? ''
      : html`<form method="post" action="${base}/enable" class="inline">${csrfInput(frame)}<button type="submit" class="primary">${t('actions.enable')}</button></form>`
  const disable =
    user.status === 'disabled'
      ? ''
      : html`<form method="post" action="${base}/disable" class="inline">${csrfInput(frame)}<input name="reason" placeholder="${t('actions.reason')}" aria-label="${t('actions.reason')}" maxlength="200"><button type="submit" class="warn">${t('actions.disable')}</button></form>`
  return html`<section class="card" id="actions"><h2>${t('actions.title')}</h2>
<div class="actions-row">${enable}${disable}
<form method="post" action="${base}/reset" class="inline" data-confirm="${t('actions.resetHint')}">${csrfInput(frame)}<button type="submit">${t('actions.reset')}</button></form>
<a class="button danger" href="${base}/remove">${t('actions.remove')}</a></div>
<p class="hint">${t('actions.statusHint')}</p>
<div class="grid-2">
<form method="post" action="${base}/topup" class="stacked">${csrfInput(frame)}
<h3>${t('actions.topUp')}</h3>
<label>${t('actions.size')}<input name="size" required placeholder="10, 500M" inputmode="decimal"></label>
<label>${t('actions.note')}<input name="note" maxlength="200"></label>
<p class="hint">${t('actions.topUpHint')}</p>
<button type="submit">${t('actions.topUp')}</button>
</form>
<form method="post" action="${base}/quota" class="stacked">${csrfInput(frame)}
<h3>${t('actions.setQuota')}</h3>
<div class="fields">
<label>${t('user.monthlyQuota')}<input name="monthly" placeholder="${formatQuota(user.monthlyQuota, t)}"></label>
<label>${t('user.totalQuota')}<input name="total" placeholder="${formatQuota(user.totalQuota, t)}"></label>
<label>${t('user.reset')}<input name="reset" placeholder="${user.reset}"></label>
<label>${t('user.maxIps')}<input name="max_ips" inputmode="numeric" placeholder="${user.maxIps ?? ''}"></label>
<label>${t('user.expires')}<input name="expires" placeholder="${user.expiresAt === null ? 'never' : formatDate(user.expiresAt, view.timeZone)}"></label>
<label>${t('user.plan')}<select name="plan"><option value="">${user.plan ?? t('common.none')}</option>${plans}<option value="none">${t('add.noPlan')}</option></select></label>
</div>
<p class="hint">${t('actions.setQuotaHint')}</p>
<button type="submit">${t('common.save')}</button>
</form>
</div>
</section>`
}

export function userPage(frame: Frame, view: UserPageView): Html {
  const {t} = frame
  const {user} = view
  const percent = percentUsed(user.periodUsed, user.allowance)
  const reason = user.statusReason === null ? '' : html`<span class="reason">${user.statusReason}</span>`
  return layout(
    frame,
    t('user.title', {name: user.name}),
    html`<p class="crumbs"><a href="/">← ${t('common.back')}</a></p>
<div class="page-head"><h1>${user.name}</h1>${statusBadge(user.status, t)}${reason}</div>
<section class="stats">
${stat(t('user.periodUsed'), `${formatSize(user.periodUsed)} / ${formatQuota(user.allowance, t)}`, html`${usageBar(user.periodUsed, user.allowance)}<span class="stat-note">${percent === null ? '' : `${percent}%`}</span>`)}
${stat(t('user.lifetime'), formatSize(user.totalUsed), user.totalQuota === 0 ? '' : html`<span class="stat-note">/ ${formatSize(user.totalQuota)}</span>`)}
${stat(t('user.period'), html`<span class="nowrap">${formatDate(user.periodStart, view.timeZone)}</span> → <span class="nowrap">${user.periodEnd === null ? t('common.noReset') : formatDate(user.periodEnd, view.timeZone)}</span>`)}
${stat(t('user.expires'), user.expiresAt === null ? t('common.never') : formatDate(user.expiresAt, view.timeZone))}
</section>
${charts(view, t)}
<section class="grid-2">${limits(view, t)}${credentials(view, t)}</section>
<section class="grid-2">${subscription(frame, view)}</section>
${actions(frame, view)}
${history(view, t)}`,
  )
}

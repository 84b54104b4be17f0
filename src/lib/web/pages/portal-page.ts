import type {OffReason} from '../../domain/subscriptions.js'
import type {UserPortal} from '../../share-links/user-portal.js'
import {dailyBars, usageBar, type ChartDay} from '../charts.js'
import {html, type Html} from '../html.js'
import type {Translate} from '../i18n/messages.js'
import {statusBadge} from './dashboard-page.js'
import {layout, type Frame} from './layout.js'
import {formatDate, formatInstant, formatSize, percentUsed} from './view-format.js'

/** A user's page as drawn: the portal's facts, the QR codes already made, the subscription's whole URL. */
export interface PortalPageView {
  portal: UserPortal
  subscriptionUrl: string
  /** The QR code of each text shown (the subscription URL and every link), by the text. */
  qr: Map<string, Html>
  timeZone: string
}

function stat(label: string, value: Html | string, extra: Html | string = ''): Html {
  return html`<div class="stat"><span class="stat-label">${label}</span><strong class="stat-value">${value}</strong>${extra}</div>`
}

function offText(off: OffReason, t: Translate, timeZone: string): Html {
  const lines: string[] = []
  switch (off.kind) {
    case 'monthly':
      lines.push(t('portal.off.monthly', {date: formatDate(off.backOn, timeZone)}))
      break
    case 'total':
      lines.push(t('portal.off.total'))
      break
    case 'sharing':
      lines.push(t('portal.off.sharing'))
      break
    case 'expired':
      lines.push(
        off.at === null
          ? t('portal.off.expiredUndated')
          : t('portal.off.expired', {date: formatInstant(off.at, timeZone)}),
      )
      break
    case 'disabled':
    case 'limited':
      lines.push(t(off.kind === 'disabled' ? 'portal.off.disabled' : 'portal.off.limited'))
      if (off.reason !== null && off.reason !== '') lines.push(t('portal.off.reason', {reason: off.reason}))
      break
  }
  return html`<div class="flash flash-warn off" role="status">${lines.map((line) => html`<p>${line}</p>`)}</div>`
}

function copyable(text: string, t: Translate): Html {
  return html`<div class="copy-line"><code class="break">${text}</code><button type="button" class="copy" data-copy="${text}" data-copied="${t('common.copied')}" hidden>${t('common.copy')}</button></div>`
}

function qrFigure(view: PortalPageView, text: string, what: string, t: Translate): Html {
  return html`<div class="qr" role="img" aria-label="${t('portal.qr', {what})}">${view.qr.get(text) ?? ''}</div>`
}

function describeDay(day: ChartDay, t: Translate): string {
  return `${day.day}: ${formatSize(day.total)} (${t('user.chartUp')} ${formatSize(day.up)}, ${t('user.chartDown')} ${formatSize(day.down)})`
}

function dailyChart(view: PortalPageView, t: Translate): Html {
  const days = view.portal.periodDays
  const max = Math.max(0, ...days.map((day) => day.total))
  const body =
    max === 0
      ? html`<p class="empty">${t('user.chartEmpty')}</p>`
      : html`<div class="chart-box"><span class="chart-max">${formatSize(max)}</span>${dailyBars(days, (day) => describeDay(day, t))}<div class="chart-axis"><span>${days[0]?.day.slice(5)}</span><span>${days[days.length - 1]?.day.slice(5)}</span></div><div class="legend"><span class="key key-down"></span>${t('user.chartDown')}<span class="key key-up"></span>${t('user.chartUp')}</div></div>`
  return html`<section class="card" id="daily"><h2>${t('portal.daily')}</h2>${body}</section>`
}

function allowance(view: PortalPageView, t: Translate): Html {
  const {user, topups} = view.portal
  const topupList =
    topups.length === 0
      ? t('portal.noTopups')
      : html`<ul class="plain">${topups.map((topup) => html`<li>+${formatSize(topup.bytes)} <span class="muted">${formatInstant(topup.at, view.timeZone)}</span></li>`)}</ul>`
  const lifetime =
    user.totalQuota === 0
      ? ''
      : html`<dt>${t('portal.lifetime')}</dt><dd>${t('portal.lifetimeUsed', {used: formatSize(user.totalUsed), total: formatSize(user.totalQuota)})}</dd>`
  return html`<section class="card" id="allowance"><h2>${t('portal.allowance')}</h2><dl class="facts">
<dt>${t('portal.monthly')}</dt><dd>${user.monthlyQuota === 0 ? t('portal.unlimited') : formatSize(user.monthlyQuota)}</dd>
<dt>${t('portal.topups')}</dt><dd>${topupList}</dd>
${lifetime}
</dl></section>`
}

function subscription(view: PortalPageView, t: Translate): Html {
  return html`<section class="card" id="subscription"><h2>${t('portal.subscription')}</h2><p class="hint">${t('portal.subscriptionHint')}</p>
<div class="share">${qrFigure(view, view.subscriptionUrl, t('portal.subscription'), t)}${copyable(view.subscriptionUrl, t)}</div></section>`
}

function links(view: PortalPageView, t: Translate): Html {
  const {portal} = view
  let body: Html
  if (portal.off !== null) body = html`<p class="empty">${t('portal.linksOff')}</p>`
  else if (portal.nodes.length === 0) body = html`<p class="empty">${t('portal.noLinks')}</p>`
  else
    body = html`<p class="hint">${t('portal.linksHint')}</p>${portal.nodes.map(
      (node) =>
        html`<h3>${node.node}</h3><ul class="links">${node.links.map((entry) => {
          if (!('link' in entry)) return ''
          const what = `${node.node} ${entry.tag}`
          return html`<li class="share"><div class="share-head"><strong>${entry.protocol}</strong> <span class="muted">${entry.tag}</span></div>${qrFigure(view, entry.link, what, t)}${copyable(entry.link, t)}</li>`
        })}</ul>`,
    )}`
  return html`<section class="card" id="links"><h2>${t('portal.links')}</h2>${body}</section>`
}

/** `/u/<token>`: a user's own page, phone width first, read-only. */
export function portalPage(frame: Frame, view: PortalPageView): Html {
  const {t} = frame
  const {user, off} = view.portal
  const percent = percentUsed(user.periodUsed, user.allowance)
  const left =
    user.allowance === 0
      ? t('portal.unlimited')
      : formatSize(Math.max(0, user.allowance - user.periodUsed) + user.packagesLeft)
  return layout(
    frame,
    t('portal.title'),
    html`<div class="page-head"><h1>${user.name}</h1>${statusBadge(user.status, t)}</div>
${off === null ? '' : offText(off, t, view.timeZone)}
<section class="stats">
${stat(t('portal.used'), `${formatSize(user.periodUsed)} / ${user.allowance === 0 ? t('portal.unlimited') : formatSize(user.allowance)}`, html`${usageBar(user.periodUsed, user.allowance)}<span class="stat-note">${percent === null ? '' : `${percent}%`}</span>`)}
${stat(t('portal.left'), left)}
${user.packagesLeft > 0 ? stat(t('portal.packages'), formatSize(user.packagesLeft)) : ''}
${stat(t('portal.resets'), user.periodEnd === null ? t('common.noReset') : formatDate(user.periodEnd, view.timeZone))}
${stat(t('portal.expires'), user.expiresAt === null ? t('common.never') : formatDate(user.expiresAt, view.timeZone))}
</section>
${dailyChart(view, t)}
<div class="grid-2">${allowance(view, t)}${subscription(view, t)}</div>
${links(view, t)}`,
  )
}

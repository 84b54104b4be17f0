import {html, type Html} from '../html.js'
import {layout, type Frame} from './layout.js'

export function errorPage(frame: Frame, title: string, text: string): Html {
  return layout(
    frame,
    title,
    html`<section class="card narrow"><h1>${title}</h1><p>${text}</p>${frame.home === null ? '' : html`<p><a href="${frame.home ?? '/'}">${frame.t('common.back')}</a></p>`}</section>`,
  )
}

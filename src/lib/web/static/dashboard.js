// sbq dashboard: conveniences on top of pages that work without script (the CSP allows only this file).
'use strict'

document.addEventListener('DOMContentLoaded', () => {
  // A status menu that filters as soon as it changes.
  for (const select of document.querySelectorAll('select[data-autosubmit]')) {
    select.addEventListener('change', () => select.form && select.form.requestSubmit())
  }

  // Forms that ask first (reset); the question is the form's data-confirm text.
  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault()
    })
  }

  // Copy buttons beside credentials and links. Plain HTTP off loopback has no clipboard API (a user's page on a
  // phone often is just that), so there the text is copied through a selected, off-screen textarea instead.
  const copyText = async (text) => {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text)
    const area = document.createElement('textarea')
    area.value = text
    area.setAttribute('readonly', '')
    area.className = 'offscreen'
    document.body.append(area)
    area.select()
    const copied = document.execCommand('copy')
    area.remove()
    if (!copied) throw new Error('copy refused')
  }
  for (const button of document.querySelectorAll('button[data-copy]')) {
    button.hidden = false
    button.addEventListener('click', async () => {
      const label = button.textContent
      try {
        await copyText(button.dataset.copy)
        button.textContent = button.dataset.copied || label
        setTimeout(() => {
          button.textContent = label
        }, 1500)
      } catch {
        button.hidden = true
      }
    })
  }
})

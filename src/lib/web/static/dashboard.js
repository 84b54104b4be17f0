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

  // Copy buttons beside credentials; hidden when there is no clipboard (plain HTTP off loopback has none).
  if (navigator.clipboard && window.isSecureContext) {
    for (const button of document.querySelectorAll('button[data-copy]')) {
      button.hidden = false
      button.addEventListener('click', async () => {
        const label = button.textContent
        try {
          await navigator.clipboard.writeText(button.dataset.copy)
          button.textContent = button.dataset.copied || label
          setTimeout(() => {
            button.textContent = label
          }, 1500)
        } catch {
          button.hidden = true
        }
      })
    }
  }
})

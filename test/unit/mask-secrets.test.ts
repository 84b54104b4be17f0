import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {maskSecret, maskUrl, maskUrlSecretsIn} from '../../src/lib/domain/mask-secrets.js'

// Each row: a webhook URL as stored (URL.href), how sbq shows it, and the credentials that must never show.
const urls: Array<{url: string; shown: string; hidden: string[]}> = [
  {url: 'https://example.com/hook', shown: 'https://example.com/hook', hidden: []},
  {
    url: 'https://example.com/alerts-endpoint-for-sbq',
    shown: 'https://example.com/alerts-endpoint-for-sbq',
    hidden: [],
  },
  {url: 'https://ops:hunter2@example.com/hook', shown: 'https://***:***@example.com/hook', hidden: ['hunter2']},
  {
    url: 'https://bearer-token-abcdefgh@example.com/',
    shown: 'https://***efgh@example.com/',
    hidden: ['bearer-token-abcdefgh'],
  },
  {
    url: 'http://127.0.0.1:8080/hook?token=s3cr3t-t0k3n&user=ops',
    shown: 'http://127.0.0.1:8080/hook?token=***&user=***',
    hidden: ['s3cr3t-t0k3n'],
  },
  {
    url: 'https://maps.example.com/send?key=AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI',
    shown: 'https://maps.example.com/send?key=***qsHI',
    hidden: ['AIzaSyDdI0hCZtE6vySjMm'],
  },
  {
    url: 'https://api.telegram.org/bot123456789:AAEhBP0av28TwQFvMcB_Rz5L1NbIXRhFq2s/sendMessage?chat_id=42',
    shown: 'https://api.telegram.org/***Fq2s/sendMessage?chat_id=***',
    hidden: ['AAEhBP0av28TwQFvMcB_Rz5L1NbIXRhFq2s'],
  },
  {
    url: 'https://hooks.slack.com/services/T00000000/B00000000/aBcDeFgHiJkLmNoPqRsTuVwX',
    shown: 'https://hooks.slack.com/services/T00000000/B00000000/***uVwX',
    hidden: ['aBcDeFgHiJkLmNoPqRsTuVwX'],
  },
  {
    url: 'https://discord.com/api/webhooks/112233445566778899/Zx9_Qw8-Er7Ty6Ui5Op4As3Df2Gh1JkLzXcVbNm-QwErTyUiOpAsDfGhJkLzXcVbNm1234',
    shown: 'https://discord.com/api/webhooks/***8899/***1234',
    hidden: ['Zx9_Qw8-Er7Ty6Ui5Op4As3Df2Gh1JkL', '112233445566778899'],
  },
  {
    url: 'https://ntfy.example.com/7f3c2a9e-1b4d-4e8f-9a6b-2c5d8e1f0a3b',
    shown: 'https://ntfy.example.com/***0a3b',
    hidden: ['7f3c2a9e-1b4d'],
  },
  {url: 'https://example.com/hook#access_token=abc123', shown: 'https://example.com/hook#***', hidden: ['abc123']},
]

describe('maskUrl: a webhook URL with its credentials masked', () => {
  for (const {url, shown, hidden} of urls) {
    it(url, () => {
      const masked = maskUrl(url)
      assert.equal(masked, shown)
      for (const secret of hidden) assert.ok(!masked.includes(secret), `${secret} shows in ${masked}`)
    })
  }

  it('leaves text that is not a URL as it is (it is quoted back to say it is not a URL)', () => {
    assert.equal(maskUrl('not-a-url'), 'not-a-url')
  })

  it('masks a secret as --secret is masked: the last 4 characters of 16 or more, else nothing', () => {
    assert.equal(maskSecret('0123456789abcdef'), '***cdef')
    assert.equal(maskSecret('0123456789abcde'), '***')
  })
})

describe('maskUrlSecretsIn: an error that echoes the URL or a part of it', () => {
  const url = 'https://ops:pa%24%24word@example.com/services/T0/B0/aBcDeFgHiJkLmNoPqRsTuVwX?token=tok-3141592653'

  it('masks the whole URL, each secret part as written, and each percent-decoded', () => {
    const error = `request to ${url} failed; auth pa$$word rejected; path aBcDeFgHiJkLmNoPqRsTuVwX; token tok-3141592653`
    const masked = maskUrlSecretsIn(error, url)
    assert.equal(masked, `request to ${maskUrl(url)} failed; auth *** rejected; path ***; token ***`)
  })

  it('leaves an error that names nothing of the URL unchanged', () => {
    assert.equal(maskUrlSecretsIn('connect ECONNREFUSED 127.0.0.1:9', url), 'connect ECONNREFUSED 127.0.0.1:9')
  })
})

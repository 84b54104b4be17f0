import type {ManagedUser} from '../../src/lib/proxies/proxy-driver.js'

/** Two users with fixed credentials, for the config rewriter tests (the fixtures name alice, bob and dave). */
export const alice: ManagedUser = {
  name: 'alice',
  credentials: {
    uuid: '19424579-8f66-4861-a3a9-66aa80a78863',
    password: 'G7SlKeEJ2yTeEpXI9jugCpjOK2t3XR3ny9HWTRsvPsk=',
    password16: '0u2h3yD1+nkbqCcMIxHSFA==',
  },
}

export const bob: ManagedUser = {
  name: 'bob',
  credentials: {
    uuid: 'fb1e35c2-e4b4-49fd-b286-0552d6b84770',
    password: '3nbCxDBn/4F/pEaPipUgbaTEDKqI/HOME8IO3qMaVmU=',
    password16: 't32cm+hSAu51/Aj3izfdpg==',
  },
}

export const managedNames = new Set(['alice', 'bob', 'dave'])

/** Every inbound of test/fixtures/sing-box-config.json with a user list; `ss-ssm` is `managed: true` and belongs to the SSM API. */
export const singBoxFixtureUserTags: readonly string[] = [
  'vless-in',
  'vmess-in',
  'trojan-in',
  'ss128-in',
  'ss256-in',
  'ss-chacha-in',
  'tuic-in',
  'hysteria-in',
  'hy2-in',
  'anytls-in',
  'shadowtls-in',
  'naive-in',
  'socks-in',
  'http-in',
  'mixed-in',
]

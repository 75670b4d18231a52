/**
 * THROWAWAY TEST KEY — NOT A GOOGLE CREDENTIAL. Generated for this repository's Web Risk simulator; it opens nothing
 * but the loopback simulator (src/simulators/webrisk/), which verifies token requests against it. Sandbox mode and the
 * tests build their service-account key file around it (`sandboxKeyFile`). Never use it anywhere else.
 */
export const SIMULATOR_TEST_PRIVATE_KEY = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQC6V7wKZCNMTo6L',
  'ee3dt2sELZ9SxSziKiJEAlj+OK2hw1+r7vRT7QycOtIizEszIySAq3YTorDrr9nK',
  'NDvQDeHhVoVYK+FDboowgan/FN2nBG/Py43nDC7FmoCNNjTm5pGCcBLNsqLj6g8f',
  '47mvKWQzi4uIFrPtkyJbEeBG+M41IAqTreQxCScstoev9NFzaBS2KH/m767y59P+',
  'mw98vr8jCVVchZmScsNXZ50OU5YtKuBYaHl+iXRJrv+TJN7TGBy04zFe1ySFt0xb',
  'RIlrrzZV0v2dQ7OlPJWqq8tOQONCf4jOBeiGoKxAcD1mEmACNcA/BfDeWeg1FP6v',
  '2yhI/vq9AgMBAAECggEAGjAMyPAQRt/OaBsbWvq1MznfJ3B28ZTmymSDEb0w56gv',
  'qJfVJftNN6KLmCDaW6YvcdbG6hUF5KWKx8BF/KQKz9KLPFw0VPfyu0TpuWO7D8cP',
  'mKYce/FKHHKtaMsKrb2PCwQJnHdjrYCeHgbwuEVqo9TTZ+163WM9Y4uUV50NS8lG',
  'N6soR3kz64nlnpH9qFTCFfw5ZzTuu+tiHFYFVIuAStt6x2VwOa+VQNfZJ7g1Yajd',
  'TNnTXcoPYDbgFzVQ28bc+R2OtNLcH1iZZzYGUdGLj5lx4954i4Cf9MXqnaB+WLCe',
  '5Djbzc3oX8SIXgcXAM0lYpDBBW5lq/KATTOB7JLS+QKBgQD72i0TMevgRwc8RPhN',
  'NsUxOMQXf14ep5FWDGzcd5/udtTTEi4mJgzk2r+X5ltMzu496lAsSGkeL7d+mFGk',
  'QqYDSifyXiuAQ4yJG9BCctLIjGJfXz1DClzw6kGoaVNJTv/gKlui+iGbygYM1SUX',
  'a507GQDdMjAhRx9UfBAjxRD15QKBgQC9aV3Lxj01pMRzAYrkBhc4cFc6phWbI3Se',
  '/QKMpL7X1XdjHVsqQ2J1fGkJVJlF6xFhI+nHyqpcwDBEUlHeUQ2CPWdYM8NU3rBo',
  'mW+bV3OcH9AmduJJqi1TOzsaZQos7TmOpC+wAay4Q4ZHpfZIB0euBbYJ/NrNI50B',
  'Yg5uZEOj+QKBgGtLN4jF68dQezSh7WZ3vuqJVIDuMhq9KJ2QDZCfJfNhjKmfRSnb',
  'bALTbmw4Jw1B2x1lhWJYNvA1Q+ca3S0td6xPG1WV6NJr9KM0xjSI1mO56u7WlDLL',
  'Z2z7X51vwZupnDjT0tZL2aWVG56772Fa51EWBdg2WWrT8fT8JaQXgHJBAoGAZm1E',
  'O53IG+ouEcMTyJtCk1Ks2RpXNL3HovJPHp84VJ8rIH4PfptR8xaD9ne5KwYjL9Sr',
  '507BMcb8UvXxL7fFBlkOObREPPDvlKDkqaxw6EyL00EWvZ85Q3kUTQG2rvTZ2zkO',
  'UK+XJ03cn4Iv3GOTb5fHCT+jUqufi8/q3ed6bIECgYBj/YmIC0JArllvrFDzVc87',
  '3PTHD38ceHvNAjRzErzNkvwP+0DM10mLmj8eke6qBBCzxsOQzErqLUssGsldGyqu',
  'Vk/BRG4FLk+BdTJW5gMwglsVgbULJW2k44nZknpdY5hNYKapZtWjHBbDSIpMagnb',
  'M9HwIhc7g/Wu7sEEtQZbPg==',
  '-----END PRIVATE KEY-----'
].join('\n') + '\n'

/** the service account of the simulator's test key */
export const SIMULATOR_CLIENT_EMAIL = 'sandbox@webrisk-sandbox.iam.gserviceaccount.com'

/** A key file JSON is an object with a private key: then it is one already (`sandboxKeyFile` leaves it alone). */
function isKeyFileJson (text: string): boolean {
  try {
    const parsed = JSON.parse(text) as unknown
    return typeof parsed === 'object' && parsed !== null && typeof (parsed as Record<string, unknown>).private_key === 'string'
  } catch {
    return false
  }
}

/**
 * A service-account key file around the test key whose `private_key_id` is `secret`: the simulator started with the
 * same secret accepts exactly this key id. `token_uri` is Google's; the sandbox points WEBRISK_TOKEN_URL at the
 * simulator.
 */
export function sandboxKeyFile (secret: string): string {
  if (isKeyFileJson(secret)) return secret
  return JSON.stringify({
    type: 'service_account',
    project_id: 'webrisk-sandbox',
    private_key_id: secret,
    private_key: SIMULATOR_TEST_PRIVATE_KEY,
    client_email: SIMULATOR_CLIENT_EMAIL,
    client_id: '100000000000000000001',
    token_uri: 'https://oauth2.googleapis.com/token'
  })
}

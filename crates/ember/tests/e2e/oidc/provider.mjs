// The OpenID provider of ember's single-sign-on tests: the certified `oidc-provider` from npm,
// on loopback, with its development sign-in pages (any login, any password). Usage:
//   node provider.mjs <port> <config JSON>
// where the config is {"clients": [...oidc-provider client metadata], "accounts": {"<login>":
// {"email": ..., "name": ..., "groups": [...]}}}. Prints "ready <port>" once it listens; stops
// when its stdin closes.
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const config = JSON.parse(process.argv[3]);

const provider = new Provider(`http://localhost:${port}`, {
  clients: config.clients,
  async findAccount(_ctx, id) {
    const account = config.accounts[id] ?? {};
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: account.email ?? `${id}@example.com`,
          email_verified: true,
          name: account.name ?? id,
          groups: account.groups ?? [],
        };
      },
    };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
  pkce: { required: () => true },
  cookies: { keys: ['ember-e2e-oidc-cookie-key'] },
  features: { devInteractions: { enabled: true } },
});

provider.listen(port, '127.0.0.1', () => console.log(`ready ${port}`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

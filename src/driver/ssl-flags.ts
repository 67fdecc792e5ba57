// Reads libprocess' SSL flags from the environment exactly as libprocess does
// (`3rdparty/libprocess/src/openssl.cpp`, `Flags::Flags` and `reinitialize`; stout's flag loader),
// and resolves them into the client-side settings the executor needs. Pure: no file is read here.
import { EnvironmentError } from '../errors.js';
import { invalidVariable } from './variable-error.js';

/**
 * How the agent's certificate is checked, libprocess' client mode (`openssl.cpp` `verify` and
 * `configure_socket`). A union, not a set of flags: each scheme uses only its own fields.
 */
export type ServerVerification =
  /**
   * LIBPROCESS_SSL_VERIFY_SERVER_CERT is off (the default): no check at all, neither the chain
   * nor the name, so any certificate is accepted (libprocess sets `SSL_VERIFY_NONE`).
   */
  | { readonly scheme: 'off' }
  /**
   * LIBPROCESS_SSL_HOSTNAME_VALIDATION_SCHEME=legacy (the default): the chain, then the name
   * obtained by a reverse lookup of the agent's IP, compared exactly with the DNS SANs and the CN.
   */
  | (ChainVerification & {
      readonly scheme: 'legacy';
      /**
       * What to do when the agent's name is unknown (the reverse lookup failed and the endpoint is
       * an IP) and IP SANs are not allowed: libprocess refuses only when
       * LIBPROCESS_SSL_REQUIRE_CLIENT_CERT is set, in client mode too.
       */
      readonly unknownName: 'accept' | 'refuse';
    })
  /**
   * LIBPROCESS_SSL_HOSTNAME_VALIDATION_SCHEME=openssl: the chain, then OpenSSL's own host check
   * (`X509_check_host`) against the name the executor connected to, or, for an IP,
   * `X509_check_ip` when LIBPROCESS_SSL_VERIFY_IPADD is set (without it an IP never matches).
   */
  | (ChainVerification & { readonly scheme: 'openssl' });

interface ChainVerification {
  /** LIBPROCESS_SSL_CA_FILE; with no CA file nor directory, the default roots. */
  readonly caFile: string | null;
  /** LIBPROCESS_SSL_CA_DIR: an OpenSSL hashed directory (`<hash>.<n>` files). */
  readonly caDir: string | null;
  /** LIBPROCESS_SSL_VERIFICATION_DEPTH: intermediate CAs allowed at most (default 4). */
  readonly depth: number;
  /** LIBPROCESS_SSL_VERIFY_IPADD: the agent's IP may match an IP SAN. */
  readonly verifyIpAddress: boolean;
}

/**
 * The libprocess SSL settings of an executor, so the transport behaves as a libprocess client
 * would. Present only when the endpoint is https.
 */
export interface TlsSettings {
  /** LIBPROCESS_SSL_CERT_FILE: presented when the agent asks (required by libprocess). */
  readonly certFile: string;
  /** LIBPROCESS_SSL_KEY_FILE: the key of {@link certFile} (required by libprocess). */
  readonly keyFile: string;
  readonly verification: ServerVerification;
}

export type SslFlags = { readonly enabled: false } | { readonly enabled: true; readonly settings: TlsSettings };

type Env = Record<string, string | undefined>;

/** The flags libprocess declares; only these are taken from the environment (stout `extract`). */
const BOOLEAN_FLAGS = [
  'enabled',
  'support_downgrade',
  'verify_cert',
  'verify_server_cert',
  'require_cert',
  'require_client_cert',
  'verify_ipadd',
  'enable_ssl_v3',
  'enable_tls_v1_0',
  'enable_tls_v1_1',
  'enable_tls_v1_2',
  'enable_tls_v1_3',
] as const;
const STRING_FLAGS = ['cert_file', 'key_file', 'ca_dir', 'ca_file', 'ciphers', 'ecdh_curves', 'hostname_validation_scheme'] as const;
const INT_FLAGS = ['verification_depth'] as const;
type FlagName = (typeof BOOLEAN_FLAGS)[number] | (typeof STRING_FLAGS)[number] | (typeof INT_FLAGS)[number];
const KNOWN: ReadonlySet<string> = new Set<string>([...BOOLEAN_FLAGS, ...STRING_FLAGS, ...INT_FLAGS]);

interface Found {
  /** The variable as spelled in the environment, for messages. */
  readonly variable: string;
  readonly value: string;
}

/**
 * Reads LIBPROCESS_SSL_* (and the deprecated SSL_* for a flag the modern prefix does not set).
 * Throws `EnvironmentError` where libprocess would exit: a malformed boolean or number (whether
 * SSL is enabled or not, as libprocess loads every flag first), and, with SSL enabled, a missing
 * key or certificate, an empty path, or an unknown hostname validation scheme.
 */
export function readSslFlags(env: Env): SslFlags {
  const flags = collect(env);
  const bool = (name: (typeof BOOLEAN_FLAGS)[number]): boolean => parseBoolean(flags.get(name));
  // Every boolean is parsed, used or not: libprocess refuses to start on a malformed one.
  const values = Object.fromEntries(BOOLEAN_FLAGS.map((name) => [name, bool(name)])) as Record<(typeof BOOLEAN_FLAGS)[number], boolean>;
  const depth = parseDepth(flags.get('verification_depth'));
  if (!values.enabled) return { enabled: false };

  // `reinitialize`: the legacy names are aliases set on top of the modern ones (either one on
  // means on), and requiring client certificates implies verifying the server's.
  const requireClientCert = values.require_client_cert || values.require_cert;
  const verifyServerCert = values.verify_server_cert || values.verify_cert || requireClientCert;

  const keyFile = requiredPath(flags.get('key_file'), 'LIBPROCESS_SSL_KEY_FILE', 'key');
  const certFile = requiredPath(flags.get('cert_file'), 'LIBPROCESS_SSL_CERT_FILE', 'certificate');

  const schemeFound = flags.get('hostname_validation_scheme');
  const scheme = schemeFound?.value ?? 'legacy';
  if (scheme !== 'legacy' && scheme !== 'openssl') {
    throw invalidVariable(schemeFound!.variable, 'expected "legacy" or "openssl" (libprocess exits on anything else)', scheme);
  }

  let verification: ServerVerification;
  if (!verifyServerCert) {
    // The CA settings are not even loaded by libprocess then.
    verification = { scheme: 'off' };
  } else {
    const chain: ChainVerification = {
      caFile: optionalPath(flags.get('ca_file')),
      caDir: optionalPath(flags.get('ca_dir')),
      depth,
      verifyIpAddress: values.verify_ipadd,
    };
    verification =
      scheme === 'legacy'
        ? { ...chain, scheme, unknownName: requireClientCert ? 'refuse' : 'accept' }
        : { ...chain, scheme };
  }
  return { enabled: true, settings: deepFreeze({ certFile, keyFile, verification }) };
}

/**
 * stout's `FlagsBase::extract`: the suffix after the prefix is lower-cased (LIBPROCESS_SSL_enabled
 * works too) and kept only if it names a flag; the environment is walked in sorted order, so of two
 * spellings of one flag the later one wins. Then `reinitialize`: the SSL_ value is added only for a
 * flag LIBPROCESS_SSL_ did not set.
 */
function collect(env: Env): Map<FlagName, Found> {
  const modern = extract(env, 'LIBPROCESS_SSL_');
  for (const [name, found] of extract(env, 'SSL_')) if (!modern.has(name)) modern.set(name, found);
  return modern;
}

function extract(env: Env, prefix: string): Map<FlagName, Found> {
  const out = new Map<FlagName, Found>();
  for (const variable of Object.keys(env).sort()) {
    const value = env[variable];
    if (value === undefined || !variable.startsWith(prefix)) continue;
    const name = variable.slice(prefix.length).toLowerCase();
    if (KNOWN.has(name)) out.set(name as FlagName, { variable, value });
  }
  return out;
}

// stout's boolean flag: an empty value means true (`--flag`), then "true"/"1" or "false"/"0".
function parseBoolean(found: Found | undefined): boolean {
  if (found === undefined) return false;
  const { value } = found;
  if (value === '' || value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  throw invalidVariable(found.variable, 'expected a boolean: "1", "true", "0" or "false"', value);
}

// libprocess passes the number to OpenSSL's `SSL_CTX_set_verify_depth`; a negative depth has no
// meaning there, so it is refused here rather than guessed at.
function parseDepth(found: Found | undefined): number {
  if (found === undefined) return 4;
  const value = found.value;
  if (!/^\+?\d{1,9}$/.test(value)) throw invalidVariable(found.variable, 'expected a number of intermediate certificates, e.g. 4', value);
  return Number(value);
}

function requiredPath(found: Found | undefined, variable: string, what: string): string {
  if (found === undefined) {
    throw new EnvironmentError(
      'MPE_ENV_MISSING',
      variable,
      `${variable} is not set: SSL is enabled (LIBPROCESS_SSL_ENABLED) and libprocess requires a ${what} then, even for a client`,
    );
  }
  if (found.value === '') throw invalidVariable(found.variable, `expected the path of a PEM ${what} file, got an empty string`);
  return found.value;
}

function optionalPath(found: Found | undefined): string | null {
  if (found === undefined) return null;
  if (found.value === '') throw invalidVariable(found.variable, 'expected a path, got an empty string');
  return found.value;
}


function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) if (typeof inner === 'object' && inner !== null) deepFreeze(inner as object);
  return Object.freeze(value);
}

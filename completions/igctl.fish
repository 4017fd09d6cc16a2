# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_igctl_global_optspecs
    string join \n socket= url= ca= cert= key= token= o/output= h/help V/version
end

function __fish_igctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_igctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_igctl_using_subcommand
    set -l cmd (__fish_igctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c igctl -n "__fish_igctl_needs_command" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_needs_command" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_needs_command" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_needs_command" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_needs_command" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_needs_command" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_needs_command" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_needs_command" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_needs_command" -s V -l version -d 'Print version'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "mint" -d 'Mint a capability token (printed once; igd keeps only its metadata)'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "tokens" -d 'Minted root tokens'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "revoke" -d 'Revoke a token (and every token attenuated from it) by jti'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "revocations" -d 'List revocations'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "stop" -d 'Place an emergency stop on a tenant or one of its subjects'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "unstop" -d 'Lift an emergency stop'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "token" -d 'Work with a token offline (no daemon needed)'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "gen-key" -d 'Generate a master key (64 hex characters) for INTENTGATE_MASTER_KEY, or with --audit an Ed25519 audit signing key (PKCS#8 PEM) for INTENTGATE_AUDIT_SIGNING_KEY'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "tenants" -d 'List tenants'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "agents" -d 'Agents seen in the audit log: first and last seen, calls allowed and refused'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "health" -d 'Ask igd whether it is ready'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "audit" -d 'Read and verify the audit log'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "policy" -d 'Rego policies: check, test and evaluate them offline; drafts, dry-run, diff, promote, rollback and the active policy in igd'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "approvals" -d 'The approvals queue: calls the policy escalated, held until an operator decides. Alone: the live TUI on a terminal (keys: ↑/↓ select, a approve, r reject, / filter, ? help, q quit), the same as `approvals list` anywhere else'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "operator" -d 'Operator accounts: who may use the admin API, with which role (admins, step-up)'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "totp" -d 'TOTP step-up for your own identity: enroll an authenticator app, or disable it'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "elevate" -d 'Just-in-time elevation: an operator asks for admin for a while; another admin approves'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "notify" -d 'Notification channels: Slack, Microsoft Teams and PagerDuty, one tenant each. Blocked, escalated and step-up calls and approval time-outs of the tenant are posted to them (one message per finding) through the audit fan-out'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "integrations" -d 'The audit fan-out\'s sinks (webhook, SIEM, notification channels): state (ok, retrying, refused, standby, starting), entries not yet delivered (LAG), the age of the oldest one, deliveries and failures since igd started, and the last error. Operators and admins; a tenant-confined caller sees its tenant\'s sinks only'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "whoami" -d 'Show the identity igd sees for this connection: role, tenant, TOTP, elevation'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "login" -d 'Check credentials against igd and store them, for commands run without --socket, --url or IGCTL_*'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "logout" -d 'Remove the credentials igctl login stored (keyring entry and file)'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "man" -d 'Print the man page (roff)'
complete -c igctl -n "__fish_igctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand mint" -l subject -d 'The agent\'s identity (root subject)' -r
complete -c igctl -n "__fish_igctl_using_subcommand mint" -l tenant -d 'The tenant the token belongs to' -r
complete -c igctl -n "__fish_igctl_using_subcommand mint" -l tools -d 'Comma-separated tool names the token may call' -r
complete -c igctl -n "__fish_igctl_using_subcommand mint" -l totp -d 'With --all-tools: a fresh TOTP code for step-up, sent as X-IntentGate-TOTP' -r
complete -c igctl -n "__fish_igctl_using_subcommand mint" -l ttl -d 'Lifetime: seconds, or a number with s, m, h or d' -r
complete -c igctl -n "__fish_igctl_using_subcommand mint" -l max-calls -d 'Most calls the token may make' -r
complete -c igctl -n "__fish_igctl_using_subcommand mint" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand mint" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand mint" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand mint" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand mint" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand mint" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand mint" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand mint" -l all-tools -d 'Allow every tool (`["*"]`). Step-up gated: pass --totp'
complete -c igctl -n "__fish_igctl_using_subcommand mint" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and not __fish_seen_subcommand_from list help" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and not __fish_seen_subcommand_from list help" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and not __fish_seen_subcommand_from list help" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and not __fish_seen_subcommand_from list help" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and not __fish_seen_subcommand_from list help" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and not __fish_seen_subcommand_from list help" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and not __fish_seen_subcommand_from list help" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and not __fish_seen_subcommand_from list help" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and not __fish_seen_subcommand_from list help" -f -a "list" -d 'List live root tokens'
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and not __fish_seen_subcommand_from list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and __fish_seen_subcommand_from list" -l tenant -d 'Only this tenant' -r
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and __fish_seen_subcommand_from list" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and __fish_seen_subcommand_from list" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and __fish_seen_subcommand_from list" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and __fish_seen_subcommand_from list" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and __fish_seen_subcommand_from list" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and __fish_seen_subcommand_from list" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and __fish_seen_subcommand_from list" -l all -d 'Include expired and revoked tokens'
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and __fish_seen_subcommand_from help" -f -a "list" -d 'List live root tokens'
complete -c igctl -n "__fish_igctl_using_subcommand tokens; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand revoke" -l tenant -d 'Tenant of the jti (needed for child tokens igd did not mint)' -r
complete -c igctl -n "__fish_igctl_using_subcommand revoke" -l reason -d 'Why (recorded in the audit log)' -r
complete -c igctl -n "__fish_igctl_using_subcommand revoke" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand revoke" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand revoke" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand revoke" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand revoke" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand revoke" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand revoke" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand revoke" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand revocations" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand revocations" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand revocations" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand revocations" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand revocations" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand revocations" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand revocations" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand revocations" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand stop" -l tenant -r
complete -c igctl -n "__fish_igctl_using_subcommand stop" -l subject -d 'Only this subject (default: the whole tenant)' -r
complete -c igctl -n "__fish_igctl_using_subcommand stop" -l reason -d 'Why (required; recorded in the audit log)' -r
complete -c igctl -n "__fish_igctl_using_subcommand stop" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand stop" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand stop" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand stop" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand stop" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand stop" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand stop" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand stop" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand unstop" -l tenant -r
complete -c igctl -n "__fish_igctl_using_subcommand unstop" -l subject -r
complete -c igctl -n "__fish_igctl_using_subcommand unstop" -l reason -r
complete -c igctl -n "__fish_igctl_using_subcommand unstop" -l totp -d 'A fresh TOTP code for step-up (lifting a stop is step-up gated)' -r
complete -c igctl -n "__fish_igctl_using_subcommand unstop" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand unstop" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand unstop" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand unstop" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand unstop" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand unstop" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand unstop" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand unstop" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand token; and not __fish_seen_subcommand_from inspect attenuate help" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand token; and not __fish_seen_subcommand_from inspect attenuate help" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand token; and not __fish_seen_subcommand_from inspect attenuate help" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand token; and not __fish_seen_subcommand_from inspect attenuate help" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand token; and not __fish_seen_subcommand_from inspect attenuate help" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand token; and not __fish_seen_subcommand_from inspect attenuate help" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand token; and not __fish_seen_subcommand_from inspect attenuate help" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand token; and not __fish_seen_subcommand_from inspect attenuate help" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand token; and not __fish_seen_subcommand_from inspect attenuate help" -f -a "inspect" -d 'Show a token\'s claims and effective rights (never its tag; signature not checked)'
complete -c igctl -n "__fish_igctl_using_subcommand token; and not __fish_seen_subcommand_from inspect attenuate help" -f -a "attenuate" -d 'Narrow a token offline by appending an attenuation block'
complete -c igctl -n "__fish_igctl_using_subcommand token; and not __fish_seen_subcommand_from inspect attenuate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from inspect" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from inspect" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from inspect" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from inspect" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from inspect" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from inspect" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from attenuate" -l tools -d 'Keep only these tools (comma-separated)' -r
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from attenuate" -l max-calls -d 'Lower the call limit' -r
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from attenuate" -l ttl -d 'Expire sooner: lifetime from now (seconds, or with s, m, h, d)' -r
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from attenuate" -l sub -d 'Delegation label (the agent\'s identity stays the root subject)' -r
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from attenuate" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from attenuate" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from attenuate" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from attenuate" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from attenuate" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from attenuate" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from attenuate" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "inspect" -d 'Show a token\'s claims and effective rights (never its tag; signature not checked)'
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "attenuate" -d 'Narrow a token offline by appending an attenuation block'
complete -c igctl -n "__fish_igctl_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand gen-key" -l totp -d 'With --announce: a fresh TOTP code for step-up (announcing a key is step-up gated)' -r
complete -c igctl -n "__fish_igctl_using_subcommand gen-key" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand gen-key" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand gen-key" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand gen-key" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand gen-key" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand gen-key" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand gen-key" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand gen-key" -l audit -d 'Generate an audit signing key instead'
complete -c igctl -n "__fish_igctl_using_subcommand gen-key" -l announce -d 'With --audit: announce the new public key to igd (a chained `checkpoint-key` entry) before it is installed, so verifiers can trust it through the current key'
complete -c igctl -n "__fish_igctl_using_subcommand gen-key" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand tenants" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand tenants" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand tenants" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand tenants" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand tenants" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand tenants" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand tenants" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand tenants" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand agents" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand agents" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand agents" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand agents" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand agents" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand agents" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand agents" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand agents" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand health" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand health" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand health" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand health" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand health" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand health" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand health" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand health" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and not __fish_seen_subcommand_from list export erase prune rebaseline evidence verify-pack verify help" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and not __fish_seen_subcommand_from list export erase prune rebaseline evidence verify-pack verify help" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and not __fish_seen_subcommand_from list export erase prune rebaseline evidence verify-pack verify help" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and not __fish_seen_subcommand_from list export erase prune rebaseline evidence verify-pack verify help" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and not __fish_seen_subcommand_from list export erase prune rebaseline evidence verify-pack verify help" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and not __fish_seen_subcommand_from list export erase prune rebaseline evidence verify-pack verify help" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and not __fish_seen_subcommand_from list export erase prune rebaseline evidence verify-pack verify help" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand audit; and not __fish_seen_subcommand_from list export erase prune rebaseline evidence verify-pack verify help" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and not __fish_seen_subcommand_from list export erase prune rebaseline evidence verify-pack verify help" -f -a "list" -d 'List audit entries'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and not __fish_seen_subcommand_from list export erase prune rebaseline evidence verify-pack verify help" -f -a "export" -d 'Export one tenant\'s chain, one row per entry (CSV or NDJSON), streamed'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and not __fish_seen_subcommand_from list export erase prune rebaseline evidence verify-pack verify help" -f -a "erase" -d 'Erase a subject\'s stored argument values, salts and recorded policy inputs (address, intent) before a time (GDPR); the chain and its verification are untouched, the erased decisions are no longer replayed by dry-run, and the erasure itself is chained'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and not __fish_seen_subcommand_from list export erase prune rebaseline evidence verify-pack verify help" -f -a "prune" -d 'Retention: cut a tenant\'s chain before a time; a signed `marker` records the cut and verification continues from it'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and not __fish_seen_subcommand_from list export erase prune rebaseline evidence verify-pack verify help" -f -a "rebaseline" -d 'After a database restore: record where the chain leaves the signed history (the fork point, in a `marker`) and let the signer anchor it again; verifiers excuse only the checkpoints past the fork point'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and not __fish_seen_subcommand_from list export erase prune rebaseline evidence verify-pack verify help" -f -a "evidence" -d 'Write an evidence pack (.tar.gz): entries, checkpoints, keys, report, manifest, controls'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and not __fish_seen_subcommand_from list export erase prune rebaseline evidence verify-pack verify help" -f -a "verify-pack" -d 'Re-verify an evidence pack offline (no daemon) against a pinned key'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and not __fish_seen_subcommand_from list export erase prune rebaseline evidence verify-pack verify help" -f -a "verify" -d 'Verify the chains locally: fetch entries and signed checkpoints and recompute everything against pinned keys. Exit 3 when tampered, 6 when unverifiable'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and not __fish_seen_subcommand_from list export erase prune rebaseline evidence verify-pack verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from list" -l tenant -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from list" -l subject -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from list" -l tool -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from list" -l decision -d 'allow, block or escalate' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from list" -l limit -d 'Most entries to show (1..=1000)' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from list" -l cursor -d 'Continue after this cursor (`next_cursor` of the previous page)' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from list" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from list" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from list" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from list" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from list" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from list" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from export" -l tenant -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from export" -l format -d 'csv or ndjson' -r -f -a "csv\t''
ndjson\t''"
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from export" -l from -d 'Entries at or after this time (RFC 3339)' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from export" -l to -d 'Entries before this time (RFC 3339)' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from export" -l from-seq -d 'Start at this seq (to continue a truncated export)' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from export" -s O -l out -d 'Write here instead of standard output' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from export" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from export" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from export" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from export" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from export" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from export" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from export" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from erase" -l tenant -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from erase" -l subject -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from erase" -l before -d 'Erase what was recorded before this time (RFC 3339)' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from erase" -l totp -d 'A fresh TOTP code (or a recovery code) for step-up, sent as X-IntentGate-TOTP' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from erase" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from erase" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from erase" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from erase" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from erase" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from erase" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from erase" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from erase" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from prune" -l tenant -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from prune" -l before -d 'Remove entries recorded before this time (RFC 3339)' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from prune" -l reason -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from prune" -l totp -d 'A fresh TOTP code (or a recovery code) for step-up, sent as X-IntentGate-TOTP' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from prune" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from prune" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from prune" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from prune" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from prune" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from prune" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from prune" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from rebaseline" -l tenant -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from rebaseline" -l reason -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from rebaseline" -l accept -d 'Accept the marker or key announcement with this seq and hash though igd did not write it (after checking it; repeatable; the refusal names both). Without it such an entry refuses the re-baseline' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from rebaseline" -l totp -d 'A fresh TOTP code (or a recovery code) for step-up, sent as X-IntentGate-TOTP' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from rebaseline" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from rebaseline" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from rebaseline" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from rebaseline" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from rebaseline" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from rebaseline" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from rebaseline" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from rebaseline" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from evidence" -l tenant -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from evidence" -l from -d 'Window start (RFC 3339; recorded in the report)' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from evidence" -l to -d 'Window end (RFC 3339): entries at or after it are left out' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from evidence" -l pubkey -d 'Verifier keys to build against (default: keys pinned on first use)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from evidence" -l out -d 'Where to write the pack' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from evidence" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from evidence" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from evidence" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from evidence" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from evidence" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from evidence" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from evidence" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from evidence" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify-pack" -l pubkey -d 'Verifier key file (required: evidence is never trusted on first use)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify-pack" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify-pack" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify-pack" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify-pack" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify-pack" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify-pack" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify-pack" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify-pack" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify" -l tenant -d 'Only this tenant (default: every tenant in scope)' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify" -l pubkey -d 'Verifier keys to trust (one `name+id+key` per line); default: keys pinned on first use under the config dir' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify" -l pin -d 'Pinned newest checkpoints (JSON, tenant → note): the chain must still contain them; updated after each successful run' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify" -l require-anchor -d 'Fail (exit 6) when entries after the newest checkpoint are not yet anchored'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify" -l server -d 'Ask igd for its own verdict instead of recomputing locally'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "list" -d 'List audit entries'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "export" -d 'Export one tenant\'s chain, one row per entry (CSV or NDJSON), streamed'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "erase" -d 'Erase a subject\'s stored argument values, salts and recorded policy inputs (address, intent) before a time (GDPR); the chain and its verification are untouched, the erased decisions are no longer replayed by dry-run, and the erasure itself is chained'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Retention: cut a tenant\'s chain before a time; a signed `marker` records the cut and verification continues from it'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "rebaseline" -d 'After a database restore: record where the chain leaves the signed history (the fork point, in a `marker`) and let the signer anchor it again; verifiers excuse only the checkpoints past the fork point'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "evidence" -d 'Write an evidence pack (.tar.gz): entries, checkpoints, keys, report, manifest, controls'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "verify-pack" -d 'Re-verify an evidence pack offline (no daemon) against a pinned key'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Verify the chains locally: fetch entries and signed checkpoints and recompute everything against pinned keys. Exit 3 when tampered, 6 when unverifiable'
complete -c igctl -n "__fish_igctl_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and not __fish_seen_subcommand_from check test eval draft dry-run diff promote rollback active help" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and not __fish_seen_subcommand_from check test eval draft dry-run diff promote rollback active help" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and not __fish_seen_subcommand_from check test eval draft dry-run diff promote rollback active help" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and not __fish_seen_subcommand_from check test eval draft dry-run diff promote rollback active help" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and not __fish_seen_subcommand_from check test eval draft dry-run diff promote rollback active help" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and not __fish_seen_subcommand_from check test eval draft dry-run diff promote rollback active help" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and not __fish_seen_subcommand_from check test eval draft dry-run diff promote rollback active help" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand policy; and not __fish_seen_subcommand_from check test eval draft dry-run diff promote rollback active help" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and not __fish_seen_subcommand_from check test eval draft dry-run diff promote rollback active help" -f -a "check" -d 'Parse and compile policies and their tests, and check the entrypoint (`decision` in package `intentgate.policy`), the size limits and the safety rules (no network, clock or randomness builtins). Offline. Each directory holding .rego files (searched recursively) is one policy; the files named are one more. Problems are printed as FILE:LINE:COLUMN: MESSAGE; exit 1 if there is any'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and not __fish_seen_subcommand_from check test eval draft dry-run diff promote rollback active help" -f -a "test" -d 'Run the policies\' tests, like `opa test`: every rule named test_* (in *_test.rego files and in the policy) evaluated as data.PACKAGE.RULE passes when it is true; todo_test_* rules are skipped. Offline. Each directory holding .rego files (searched recursively) is one policy with its tests. Exit 1 on a failed test or a policy that does not load'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and not __fish_seen_subcommand_from check test eval draft dry-run diff promote rollback active help" -f -a "eval" -d 'Evaluate a policy\'s decision for one input, as igd would decide a call (offline). A deny is an answer: the exit code is 0'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and not __fish_seen_subcommand_from check test eval draft dry-run diff promote rollback active help" -f -a "draft" -d 'Drafts in igd\'s policy store: a policy module and its *_test.rego modules, compiled and tested by igd before they are stored'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and not __fish_seen_subcommand_from check test eval draft dry-run diff promote rollback active help" -f -a "dry-run" -d 'Replay a candidate policy (a draft id or policy files) over the decisions recorded in a window (default: the last 24 hours), on their recorded inputs: how many calls it would allow, block and escalate, the transition matrix from what was decided then, and sample calls whose verdict changes. A progress bar on a terminal'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and not __fish_seen_subcommand_from check test eval draft dry-run diff promote rollback active help" -f -a "diff" -d 'Compare two policies (draft ids or files): the source diff, then B replayed against A on the same recorded inputs'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and not __fish_seen_subcommand_from check test eval draft dry-run diff promote rollback active help" -f -a "promote" -d 'Make a draft the active policy, on every replica within a second. igd compiles it and runs its tests again first. A step-up action: pass --totp'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and not __fish_seen_subcommand_from check test eval draft dry-run diff promote rollback active help" -f -a "rollback" -d 'Return to the policy that was active before the current one (repeat to go further back; before the first promotion, the policy file decides). A step-up action'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and not __fish_seen_subcommand_from check test eval draft dry-run diff promote rollback active help" -f -a "active" -d 'Show what decides now (store, file or embedded default), its revision and the store\'s recent changes; --clear deactivates the store\'s policy (the file decides again)'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and not __fish_seen_subcommand_from check test eval draft dry-run diff promote rollback active help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from check" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from check" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from check" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from check" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from check" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from check" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from check" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from test" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from test" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from test" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from test" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from test" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from test" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from test" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from test" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from eval" -s i -l input -d 'The input document (DESIGN §4.3): JSON text, @FILE, or - for standard input' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from eval" -l timeout-ms -d 'Evaluation time limit in milliseconds (igd\'s INTENTGATE_POLICY_TIMEOUT_MS)' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from eval" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from eval" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from eval" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from eval" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from eval" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from eval" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from eval" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from eval" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from draft" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from draft" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from draft" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from draft" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from draft" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from draft" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from draft" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from draft" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from draft" -f -a "create" -d 'Store a draft: one policy module and its *_test.rego files (or a directory of them)'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from draft" -f -a "list" -d 'List drafts'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from draft" -f -a "show" -d 'Show a draft with its sources'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from draft" -f -a "delete" -d 'Delete a draft (what is active, and what a rollback returns to, keep their own copy)'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from draft" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from dry-run" -l from -d 'Start (RFC 3339); default: 24 hours before --to' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from dry-run" -l to -d 'End (RFC 3339); default: now' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from dry-run" -l samples -d 'Most divergent calls to show' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from dry-run" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from dry-run" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from dry-run" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from dry-run" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from dry-run" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from dry-run" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from dry-run" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from dry-run" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from diff" -l from -d 'Start (RFC 3339); default: 24 hours before --to' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from diff" -l to -d 'End (RFC 3339); default: now' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from diff" -l samples -d 'Most divergent calls to show' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from diff" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from diff" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from diff" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from diff" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from diff" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from diff" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from diff" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from promote" -l totp -d 'A fresh TOTP code (or a recovery code), sent as X-IntentGate-TOTP' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from promote" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from promote" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from promote" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from promote" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from promote" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from promote" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from promote" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from promote" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from rollback" -l totp -d 'A fresh TOTP code (or a recovery code), sent as X-IntentGate-TOTP' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from rollback" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from rollback" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from rollback" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from rollback" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from rollback" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from rollback" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from rollback" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from rollback" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from active" -l totp -d 'With --clear (a step-up action): a fresh TOTP code, sent as X-IntentGate-TOTP' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from active" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from active" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from active" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from active" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from active" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from active" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from active" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from active" -l clear
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from active" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "check" -d 'Parse and compile policies and their tests, and check the entrypoint (`decision` in package `intentgate.policy`), the size limits and the safety rules (no network, clock or randomness builtins). Offline. Each directory holding .rego files (searched recursively) is one policy; the files named are one more. Problems are printed as FILE:LINE:COLUMN: MESSAGE; exit 1 if there is any'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "test" -d 'Run the policies\' tests, like `opa test`: every rule named test_* (in *_test.rego files and in the policy) evaluated as data.PACKAGE.RULE passes when it is true; todo_test_* rules are skipped. Offline. Each directory holding .rego files (searched recursively) is one policy with its tests. Exit 1 on a failed test or a policy that does not load'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "eval" -d 'Evaluate a policy\'s decision for one input, as igd would decide a call (offline). A deny is an answer: the exit code is 0'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "draft" -d 'Drafts in igd\'s policy store: a policy module and its *_test.rego modules, compiled and tested by igd before they are stored'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "dry-run" -d 'Replay a candidate policy (a draft id or policy files) over the decisions recorded in a window (default: the last 24 hours), on their recorded inputs: how many calls it would allow, block and escalate, the transition matrix from what was decided then, and sample calls whose verdict changes. A progress bar on a terminal'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "diff" -d 'Compare two policies (draft ids or files): the source diff, then B replayed against A on the same recorded inputs'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "promote" -d 'Make a draft the active policy, on every replica within a second. igd compiles it and runs its tests again first. A step-up action: pass --totp'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "rollback" -d 'Return to the policy that was active before the current one (repeat to go further back; before the first promotion, the policy file decides). A step-up action'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "active" -d 'Show what decides now (store, file or embedded default), its revision and the store\'s recent changes; --clear deactivates the store\'s policy (the file decides again)'
complete -c igctl -n "__fish_igctl_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and not __fish_seen_subcommand_from list decide help" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and not __fish_seen_subcommand_from list decide help" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and not __fish_seen_subcommand_from list decide help" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and not __fish_seen_subcommand_from list decide help" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and not __fish_seen_subcommand_from list decide help" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and not __fish_seen_subcommand_from list decide help" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and not __fish_seen_subcommand_from list decide help" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and not __fish_seen_subcommand_from list decide help" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and not __fish_seen_subcommand_from list decide help" -f -a "list" -d 'List approvals: id, tenant, agent, tool, reason, step-up, time left (or status)'
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and not __fish_seen_subcommand_from list decide help" -f -a "decide" -d 'Approve or reject a pending call; prints the decided row. Exit 1 if it was already decided, 4 if a step-up code is needed or wrong'
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and not __fish_seen_subcommand_from list decide help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from list" -l status -d 'Which rows' -r -f -a "pending\t''
approved\t''
rejected\t''
timeout\t''
forwarded\t''
lapsed\t''
all\t''"
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from list" -l tenant -d 'Only this tenant' -r
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from list" -l limit -d 'Most rows (1..=10000; igd\'s default 1000)' -r
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from list" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from list" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from list" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from list" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from list" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from list" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from decide" -l note -d 'A note for the audit log' -r
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from decide" -l totp -d 'A fresh TOTP code: approving a call marked STEP-UP needs one' -r
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from decide" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from decide" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from decide" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from decide" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from decide" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from decide" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from decide" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from decide" -l approve -d 'Approve the call'
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from decide" -l reject -d 'Reject the call'
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from decide" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from help" -f -a "list" -d 'List approvals: id, tenant, agent, tool, reason, step-up, time left (or status)'
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from help" -f -a "decide" -d 'Approve or reject a pending call; prints the decided row. Exit 1 if it was already decided, 4 if a step-up code is needed or wrong'
complete -c igctl -n "__fish_igctl_using_subcommand approvals; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand operator; and not __fish_seen_subcommand_from add list remove help" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand operator; and not __fish_seen_subcommand_from add list remove help" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand operator; and not __fish_seen_subcommand_from add list remove help" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand operator; and not __fish_seen_subcommand_from add list remove help" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand operator; and not __fish_seen_subcommand_from add list remove help" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand operator; and not __fish_seen_subcommand_from add list remove help" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand operator; and not __fish_seen_subcommand_from add list remove help" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand operator; and not __fish_seen_subcommand_from add list remove help" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand operator; and not __fish_seen_subcommand_from add list remove help" -f -a "add" -d 'Add an operator account (admin, step-up). It authenticates by a uid on the admin socket, a client certificate subject and/or an API token (--token: shown once)'
complete -c igctl -n "__fish_igctl_using_subcommand operator; and not __fish_seen_subcommand_from add list remove help" -f -a "list" -d 'List operator accounts'
complete -c igctl -n "__fish_igctl_using_subcommand operator; and not __fish_seen_subcommand_from add list remove help" -f -a "remove" -d 'Remove an operator account and its TOTP enrollment (admin, step-up)'
complete -c igctl -n "__fish_igctl_using_subcommand operator; and not __fish_seen_subcommand_from add list remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from add" -l role -d 'viewer, operator or admin' -r -f -a "viewer\t''
operator\t''
admin\t''"
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from add" -l tenant -d 'Confine a viewer or operator to one tenant' -r
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from add" -l uid -d 'The Unix uid it connects to the admin socket as' -r
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from add" -l cert-subject -d 'Its client certificate subject on the mTLS admin listener (RFC 4514, e.g. CN=oncall-1,O=Example)' -r
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from add" -l totp -d 'A fresh TOTP code for step-up, sent as X-IntentGate-TOTP' -r
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from add" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from add" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from add" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from add" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from add" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from add" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from add" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from add" -l issue-token -d 'Issue an API token for it (printed once; igd keeps only its hash)'
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from list" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from list" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from list" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from list" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from list" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from list" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from remove" -l totp -d 'A fresh TOTP code for step-up, sent as X-IntentGate-TOTP' -r
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from remove" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from remove" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from remove" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from remove" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from remove" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from remove" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from remove" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add an operator account (admin, step-up). It authenticates by a uid on the admin socket, a client certificate subject and/or an API token (--token: shown once)'
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from help" -f -a "list" -d 'List operator accounts'
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove an operator account and its TOTP enrollment (admin, step-up)'
complete -c igctl -n "__fish_igctl_using_subcommand operator; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand totp; and not __fish_seen_subcommand_from enroll confirm disable help" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand totp; and not __fish_seen_subcommand_from enroll confirm disable help" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand totp; and not __fish_seen_subcommand_from enroll confirm disable help" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand totp; and not __fish_seen_subcommand_from enroll confirm disable help" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand totp; and not __fish_seen_subcommand_from enroll confirm disable help" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand totp; and not __fish_seen_subcommand_from enroll confirm disable help" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand totp; and not __fish_seen_subcommand_from enroll confirm disable help" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand totp; and not __fish_seen_subcommand_from enroll confirm disable help" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand totp; and not __fish_seen_subcommand_from enroll confirm disable help" -f -a "enroll" -d 'Enroll an authenticator app for your identity: prints the otpauth:// URI and the secret (and a QR code on a terminal). On a terminal igctl then asks for the first code and prints ten one-time recovery codes, once; in a script, confirm with `totp confirm`. Re-enrolling replaces a confirmed enrollment and needs --totp with its current code'
complete -c igctl -n "__fish_igctl_using_subcommand totp; and not __fish_seen_subcommand_from enroll confirm disable help" -f -a "confirm" -d 'Confirm a pending enrollment with the first code from the app; prints the ten one-time recovery codes, once'
complete -c igctl -n "__fish_igctl_using_subcommand totp; and not __fish_seen_subcommand_from enroll confirm disable help" -f -a "disable" -d 'Disable TOTP: your own (with your code), or with --identity another\'s (admin, step-up)'
complete -c igctl -n "__fish_igctl_using_subcommand totp; and not __fish_seen_subcommand_from enroll confirm disable help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from enroll" -l totp -d 'When replacing a confirmed enrollment: a code of the current one' -r
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from enroll" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from enroll" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from enroll" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from enroll" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from enroll" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from enroll" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from enroll" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from enroll" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from confirm" -l code -d 'The 6-digit code the app shows now' -r
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from confirm" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from confirm" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from confirm" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from confirm" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from confirm" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from confirm" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from confirm" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from confirm" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from disable" -l identity -d 'Another identity (an operator name, uid:N)' -r
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from disable" -l totp -d 'A fresh TOTP code for step-up, sent as X-IntentGate-TOTP' -r
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from disable" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from disable" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from disable" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from disable" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from disable" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from disable" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from disable" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from disable" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from help" -f -a "enroll" -d 'Enroll an authenticator app for your identity: prints the otpauth:// URI and the secret (and a QR code on a terminal). On a terminal igctl then asks for the first code and prints ten one-time recovery codes, once; in a script, confirm with `totp confirm`. Re-enrolling replaces a confirmed enrollment and needs --totp with its current code'
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from help" -f -a "confirm" -d 'Confirm a pending enrollment with the first code from the app; prints the ten one-time recovery codes, once'
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from help" -f -a "disable" -d 'Disable TOTP: your own (with your code), or with --identity another\'s (admin, step-up)'
complete -c igctl -n "__fish_igctl_using_subcommand totp; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and not __fish_seen_subcommand_from request list approve help" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and not __fish_seen_subcommand_from request list approve help" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and not __fish_seen_subcommand_from request list approve help" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and not __fish_seen_subcommand_from request list approve help" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and not __fish_seen_subcommand_from request list approve help" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and not __fish_seen_subcommand_from request list approve help" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and not __fish_seen_subcommand_from request list approve help" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and not __fish_seen_subcommand_from request list approve help" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and not __fish_seen_subcommand_from request list approve help" -f -a "request" -d 'Ask for admin for a while (operators); another admin approves it'
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and not __fish_seen_subcommand_from request list approve help" -f -a "list" -d 'List elevations: pending, active and expired'
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and not __fish_seen_subcommand_from request list approve help" -f -a "approve" -d 'Approve another identity\'s elevation (admin, step-up; never your own)'
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and not __fish_seen_subcommand_from request list approve help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from request" -l reason -d 'Why (required; recorded in the audit log)' -r
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from request" -l duration -d '5m, 15m, 30m, 1h or 4h' -r
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from request" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from request" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from request" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from request" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from request" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from request" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from request" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from request" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from list" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from list" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from list" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from list" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from list" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from list" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from approve" -l totp -d 'A fresh TOTP code for step-up, sent as X-IntentGate-TOTP' -r
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from approve" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from approve" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from approve" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from approve" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from approve" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from approve" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from approve" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from approve" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from help" -f -a "request" -d 'Ask for admin for a while (operators); another admin approves it'
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from help" -f -a "list" -d 'List elevations: pending, active and expired'
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from help" -f -a "approve" -d 'Approve another identity\'s elevation (admin, step-up; never your own)'
complete -c igctl -n "__fish_igctl_using_subcommand elevate; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand notify; and not __fish_seen_subcommand_from add list test preview remove help" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and not __fish_seen_subcommand_from add list test preview remove help" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand notify; and not __fish_seen_subcommand_from add list test preview remove help" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and not __fish_seen_subcommand_from add list test preview remove help" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and not __fish_seen_subcommand_from add list test preview remove help" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and not __fish_seen_subcommand_from add list test preview remove help" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand notify; and not __fish_seen_subcommand_from add list test preview remove help" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand notify; and not __fish_seen_subcommand_from add list test preview remove help" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand notify; and not __fish_seen_subcommand_from add list test preview remove help" -f -a "add" -d 'Add a channel (an admin, or the tenant admin of --tenant). The webhook URL or routing key is sealed in igd\'s store and never shown again; pass `-` to type it at a prompt (or pipe it on stdin) so it stays out of your shell history'
complete -c igctl -n "__fish_igctl_using_subcommand notify; and not __fish_seen_subcommand_from add list test preview remove help" -f -a "list" -d 'List channels (of your tenants): id, kind, events and the receiver\'s host'
complete -c igctl -n "__fish_igctl_using_subcommand notify; and not __fish_seen_subcommand_from add list test preview remove help" -f -a "test" -d 'Send one clearly marked test message to a channel now and show the receiver\'s answer (exit 1 when it refused). PagerDuty gets an `info` alert titled [TEST]: resolve it'
complete -c igctl -n "__fish_igctl_using_subcommand notify; and not __fish_seen_subcommand_from add list test preview remove help" -f -a "preview" -d 'Print the exact JSON body a channel would be sent for an audit entry of its tenant, or for a sample blocked call; nothing is sent. A PagerDuty routing key shows as <redacted>'
complete -c igctl -n "__fish_igctl_using_subcommand notify; and not __fish_seen_subcommand_from add list test preview remove help" -f -a "remove" -d 'Remove a channel (an admin, or the tenant admin of its tenant); delivery to it stops'
complete -c igctl -n "__fish_igctl_using_subcommand notify; and not __fish_seen_subcommand_from add list test preview remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from add" -l tenant -d 'The tenant whose findings the channel receives' -r
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from add" -l kind -d 'slack, teams or pagerduty' -r -f -a "slack\t''
teams\t''
pagerduty\t''"
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from add" -l name -d 'A name for people ([a-z0-9][a-z0-9._-]{0,62}, unique in the tenant)' -r
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from add" -l webhook-url -d 'Slack or Teams: the webhook URL; `-` reads it from a prompt or stdin. (Not --url: that names igd.)' -r
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from add" -l routing-key -d 'PagerDuty: the integration (routing) key; `-` reads it from a prompt or stdin' -r
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from add" -l events-url -d 'PagerDuty: another Events API v2 endpoint (default https://events.pagerduty.com/v2/enqueue; the EU service is https://events.eu.pagerduty.com/v2/enqueue)' -r
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from add" -l events -d 'Comma-separated: deny, escalate, requires_step_up, approval_timeout (default: all four)' -r -f -a "deny\t''
escalate\t''
requires_step_up\t''
approval_timeout\t''"
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from add" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from add" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from add" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from add" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from add" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from add" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from add" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from list" -l tenant -d 'Only this tenant\'s channels' -r
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from list" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from list" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from list" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from list" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from list" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from list" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from list" -l json -d 'Print JSON (the same as --output json)'
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from test" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from test" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from test" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from test" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from test" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from test" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from test" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from test" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from preview" -l event -d 'The audit entry\'s event_id (32 hex), e.g. a decision_id from a refusal' -r
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from preview" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from preview" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from preview" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from preview" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from preview" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from preview" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from preview" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from preview" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from remove" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from remove" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from remove" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from remove" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from remove" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from remove" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from remove" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a channel (an admin, or the tenant admin of --tenant). The webhook URL or routing key is sealed in igd\'s store and never shown again; pass `-` to type it at a prompt (or pipe it on stdin) so it stays out of your shell history'
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from help" -f -a "list" -d 'List channels (of your tenants): id, kind, events and the receiver\'s host'
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from help" -f -a "test" -d 'Send one clearly marked test message to a channel now and show the receiver\'s answer (exit 1 when it refused). PagerDuty gets an `info` alert titled [TEST]: resolve it'
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from help" -f -a "preview" -d 'Print the exact JSON body a channel would be sent for an audit entry of its tenant, or for a sample blocked call; nothing is sent. A PagerDuty routing key shows as <redacted>'
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a channel (an admin, or the tenant admin of its tenant); delivery to it stops'
complete -c igctl -n "__fish_igctl_using_subcommand notify; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand integrations" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand integrations" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand integrations" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand integrations" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand integrations" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand integrations" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand integrations" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand integrations" -l json -d 'Print JSON (the same as --output json)'
complete -c igctl -n "__fish_igctl_using_subcommand integrations" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c igctl -n "__fish_igctl_using_subcommand whoami" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand whoami" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand whoami" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand whoami" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand whoami" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand whoami" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand whoami" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand whoami" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand login" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand login" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand login" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand login" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand login" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand login" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand login" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c igctl -n "__fish_igctl_using_subcommand logout" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand logout" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand logout" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand logout" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand logout" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand logout" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand logout" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand logout" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand completions" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand completions" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand completions" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand completions" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand completions" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand completions" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand completions" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand man" -l socket -d 'igd\'s admin Unix socket' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand man" -l url -d 'igd\'s admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http:// on loopback, with --token' -r
complete -c igctl -n "__fish_igctl_using_subcommand man" -l ca -d 'PEM file of the CA that signed igd\'s certificate, trusted instead of the system roots for an https:// --url (or IGCTL_CA)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand man" -l cert -d 'PEM client certificate presented to igd\'s mTLS admin listener (https:// --url; or IGCTL_CERT). Its subject is your identity: an operator account must name it' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand man" -l key -d 'PEM private key of --cert (or IGCTL_KEY)' -r -F
complete -c igctl -n "__fish_igctl_using_subcommand man" -l token -d 'Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the compatibility admin token' -r
complete -c igctl -n "__fish_igctl_using_subcommand man" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c igctl -n "__fish_igctl_using_subcommand man" -s h -l help -d 'Print help'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "mint" -d 'Mint a capability token (printed once; igd keeps only its metadata)'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "tokens" -d 'Minted root tokens'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "revoke" -d 'Revoke a token (and every token attenuated from it) by jti'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "revocations" -d 'List revocations'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "stop" -d 'Place an emergency stop on a tenant or one of its subjects'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "unstop" -d 'Lift an emergency stop'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "token" -d 'Work with a token offline (no daemon needed)'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "gen-key" -d 'Generate a master key (64 hex characters) for INTENTGATE_MASTER_KEY, or with --audit an Ed25519 audit signing key (PKCS#8 PEM) for INTENTGATE_AUDIT_SIGNING_KEY'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "tenants" -d 'List tenants'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "agents" -d 'Agents seen in the audit log: first and last seen, calls allowed and refused'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "health" -d 'Ask igd whether it is ready'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "audit" -d 'Read and verify the audit log'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "policy" -d 'Rego policies: check, test and evaluate them offline; drafts, dry-run, diff, promote, rollback and the active policy in igd'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "approvals" -d 'The approvals queue: calls the policy escalated, held until an operator decides. Alone: the live TUI on a terminal (keys: ↑/↓ select, a approve, r reject, / filter, ? help, q quit), the same as `approvals list` anywhere else'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "operator" -d 'Operator accounts: who may use the admin API, with which role (admins, step-up)'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "totp" -d 'TOTP step-up for your own identity: enroll an authenticator app, or disable it'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "elevate" -d 'Just-in-time elevation: an operator asks for admin for a while; another admin approves'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "notify" -d 'Notification channels: Slack, Microsoft Teams and PagerDuty, one tenant each. Blocked, escalated and step-up calls and approval time-outs of the tenant are posted to them (one message per finding) through the audit fan-out'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "integrations" -d 'The audit fan-out\'s sinks (webhook, SIEM, notification channels): state (ok, retrying, refused, standby, starting), entries not yet delivered (LAG), the age of the oldest one, deliveries and failures since igd started, and the last error. Operators and admins; a tenant-confined caller sees its tenant\'s sinks only'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "whoami" -d 'Show the identity igd sees for this connection: role, tenant, TOTP, elevation'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "login" -d 'Check credentials against igd and store them, for commands run without --socket, --url or IGCTL_*'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "logout" -d 'Remove the credentials igctl login stored (keyring entry and file)'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "completions" -d 'Print shell completions'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "man" -d 'Print the man page (roff)'
complete -c igctl -n "__fish_igctl_using_subcommand help; and not __fish_seen_subcommand_from mint tokens revoke revocations stop unstop token gen-key tenants agents health audit policy approvals operator totp elevate notify integrations whoami login logout completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from tokens" -f -a "list" -d 'List live root tokens'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "inspect" -d 'Show a token\'s claims and effective rights (never its tag; signature not checked)'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "attenuate" -d 'Narrow a token offline by appending an attenuation block'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "list" -d 'List audit entries'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "export" -d 'Export one tenant\'s chain, one row per entry (CSV or NDJSON), streamed'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "erase" -d 'Erase a subject\'s stored argument values, salts and recorded policy inputs (address, intent) before a time (GDPR); the chain and its verification are untouched, the erased decisions are no longer replayed by dry-run, and the erasure itself is chained'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "prune" -d 'Retention: cut a tenant\'s chain before a time; a signed `marker` records the cut and verification continues from it'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "rebaseline" -d 'After a database restore: record where the chain leaves the signed history (the fork point, in a `marker`) and let the signer anchor it again; verifiers excuse only the checkpoints past the fork point'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "evidence" -d 'Write an evidence pack (.tar.gz): entries, checkpoints, keys, report, manifest, controls'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "verify-pack" -d 'Re-verify an evidence pack offline (no daemon) against a pinned key'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "verify" -d 'Verify the chains locally: fetch entries and signed checkpoints and recompute everything against pinned keys. Exit 3 when tampered, 6 when unverifiable'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "check" -d 'Parse and compile policies and their tests, and check the entrypoint (`decision` in package `intentgate.policy`), the size limits and the safety rules (no network, clock or randomness builtins). Offline. Each directory holding .rego files (searched recursively) is one policy; the files named are one more. Problems are printed as FILE:LINE:COLUMN: MESSAGE; exit 1 if there is any'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "test" -d 'Run the policies\' tests, like `opa test`: every rule named test_* (in *_test.rego files and in the policy) evaluated as data.PACKAGE.RULE passes when it is true; todo_test_* rules are skipped. Offline. Each directory holding .rego files (searched recursively) is one policy with its tests. Exit 1 on a failed test or a policy that does not load'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "eval" -d 'Evaluate a policy\'s decision for one input, as igd would decide a call (offline). A deny is an answer: the exit code is 0'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "draft" -d 'Drafts in igd\'s policy store: a policy module and its *_test.rego modules, compiled and tested by igd before they are stored'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "dry-run" -d 'Replay a candidate policy (a draft id or policy files) over the decisions recorded in a window (default: the last 24 hours), on their recorded inputs: how many calls it would allow, block and escalate, the transition matrix from what was decided then, and sample calls whose verdict changes. A progress bar on a terminal'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "diff" -d 'Compare two policies (draft ids or files): the source diff, then B replayed against A on the same recorded inputs'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "promote" -d 'Make a draft the active policy, on every replica within a second. igd compiles it and runs its tests again first. A step-up action: pass --totp'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "rollback" -d 'Return to the policy that was active before the current one (repeat to go further back; before the first promotion, the policy file decides). A step-up action'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "active" -d 'Show what decides now (store, file or embedded default), its revision and the store\'s recent changes; --clear deactivates the store\'s policy (the file decides again)'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from approvals" -f -a "list" -d 'List approvals: id, tenant, agent, tool, reason, step-up, time left (or status)'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from approvals" -f -a "decide" -d 'Approve or reject a pending call; prints the decided row. Exit 1 if it was already decided, 4 if a step-up code is needed or wrong'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from operator" -f -a "add" -d 'Add an operator account (admin, step-up). It authenticates by a uid on the admin socket, a client certificate subject and/or an API token (--token: shown once)'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from operator" -f -a "list" -d 'List operator accounts'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from operator" -f -a "remove" -d 'Remove an operator account and its TOTP enrollment (admin, step-up)'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from totp" -f -a "enroll" -d 'Enroll an authenticator app for your identity: prints the otpauth:// URI and the secret (and a QR code on a terminal). On a terminal igctl then asks for the first code and prints ten one-time recovery codes, once; in a script, confirm with `totp confirm`. Re-enrolling replaces a confirmed enrollment and needs --totp with its current code'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from totp" -f -a "confirm" -d 'Confirm a pending enrollment with the first code from the app; prints the ten one-time recovery codes, once'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from totp" -f -a "disable" -d 'Disable TOTP: your own (with your code), or with --identity another\'s (admin, step-up)'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from elevate" -f -a "request" -d 'Ask for admin for a while (operators); another admin approves it'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from elevate" -f -a "list" -d 'List elevations: pending, active and expired'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from elevate" -f -a "approve" -d 'Approve another identity\'s elevation (admin, step-up; never your own)'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from notify" -f -a "add" -d 'Add a channel (an admin, or the tenant admin of --tenant). The webhook URL or routing key is sealed in igd\'s store and never shown again; pass `-` to type it at a prompt (or pipe it on stdin) so it stays out of your shell history'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from notify" -f -a "list" -d 'List channels (of your tenants): id, kind, events and the receiver\'s host'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from notify" -f -a "test" -d 'Send one clearly marked test message to a channel now and show the receiver\'s answer (exit 1 when it refused). PagerDuty gets an `info` alert titled [TEST]: resolve it'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from notify" -f -a "preview" -d 'Print the exact JSON body a channel would be sent for an audit entry of its tenant, or for a sample blocked call; nothing is sent. A PagerDuty routing key shows as <redacted>'
complete -c igctl -n "__fish_igctl_using_subcommand help; and __fish_seen_subcommand_from notify" -f -a "remove" -d 'Remove a channel (an admin, or the tenant admin of its tenant); delivery to it stops'

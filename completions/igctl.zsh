#compdef igctl

autoload -U is-at-least

_igctl() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_igctl_commands" \
"*::: :->igctl" \
&& ret=0
    case $state in
    (igctl)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-command-$line[1]:"
        case $line[1] in
            (mint)
_arguments "${_arguments_options[@]}" : \
'--subject=[The agent'\''s identity (root subject)]:SUBJECT:_default' \
'--tenant=[The tenant the token belongs to]:TENANT:_default' \
'*--tools=[Comma-separated tool names the token may call]:TOOLS:_default' \
'--totp=[With --all-tools\: a fresh TOTP code for step-up, sent as X-IntentGate-TOTP]:CODE:_default' \
'--ttl=[Lifetime\: seconds, or a number with s, m, h or d]:TTL:_default' \
'--max-calls=[Most calls the token may make]:MAX_CALLS:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'(--tools)--all-tools[Allow every tool (\`\["*"\]\`). Step-up gated\: pass --totp]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(tokens)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
":: :_igctl__subcmd__tokens_commands" \
"*::: :->tokens" \
&& ret=0

    case $state in
    (tokens)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-tokens-command-$line[1]:"
        case $line[1] in
            (list)
_arguments "${_arguments_options[@]}" : \
'--tenant=[Only this tenant]:TENANT:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'--all[Include expired and revoked tokens]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__tokens__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-tokens-help-command-$line[1]:"
        case $line[1] in
            (list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(revoke)
_arguments "${_arguments_options[@]}" : \
'--tenant=[Tenant of the jti (needed for child tokens igd did not mint)]:TENANT:_default' \
'--reason=[Why (recorded in the audit log)]:REASON:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
':jti -- The jti to revoke:_default' \
&& ret=0
;;
(revocations)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(stop)
_arguments "${_arguments_options[@]}" : \
'--tenant=[]:TENANT:_default' \
'--subject=[Only this subject (default\: the whole tenant)]:SUBJECT:_default' \
'--reason=[Why (required; recorded in the audit log)]:REASON:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(unstop)
_arguments "${_arguments_options[@]}" : \
'--tenant=[]:TENANT:_default' \
'--subject=[]:SUBJECT:_default' \
'--reason=[]:REASON:_default' \
'--totp=[A fresh TOTP code for step-up (lifting a stop is step-up gated)]:CODE:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(token)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
":: :_igctl__subcmd__token_commands" \
"*::: :->token" \
&& ret=0

    case $state in
    (token)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-token-command-$line[1]:"
        case $line[1] in
            (inspect)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
':token -- The token, or - to read it from standard input:_default' \
&& ret=0
;;
(attenuate)
_arguments "${_arguments_options[@]}" : \
'*--tools=[Keep only these tools (comma-separated)]:TOOLS:_default' \
'--max-calls=[Lower the call limit]:MAX_CALLS:_default' \
'--ttl=[Expire sooner\: lifetime from now (seconds, or with s, m, h, d)]:TTL:_default' \
'--sub=[Delegation label (the agent'\''s identity stays the root subject)]:SUB:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
':token -- The token, or - to read it from standard input:_default' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__token__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-token-help-command-$line[1]:"
        case $line[1] in
            (inspect)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(attenuate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(gen-key)
_arguments "${_arguments_options[@]}" : \
'--totp=[With --announce\: a fresh TOTP code for step-up (announcing a key is step-up gated)]:CODE:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'--audit[Generate an audit signing key instead]' \
'--announce[With --audit\: announce the new public key to igd (a chained \`checkpoint-key\` entry) before it is installed, so verifiers can trust it through the current key]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(tenants)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(agents)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(health)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(audit)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
":: :_igctl__subcmd__audit_commands" \
"*::: :->audit" \
&& ret=0

    case $state in
    (audit)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-audit-command-$line[1]:"
        case $line[1] in
            (list)
_arguments "${_arguments_options[@]}" : \
'--tenant=[]:TENANT:_default' \
'--subject=[]:SUBJECT:_default' \
'--tool=[]:TOOL:_default' \
'--decision=[allow, block or escalate]:DECISION:_default' \
'--limit=[Most entries to show (1..=1000)]:LIMIT:_default' \
'--cursor=[Continue after this cursor (\`next_cursor\` of the previous page)]:CURSOR:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(export)
_arguments "${_arguments_options[@]}" : \
'--tenant=[]:TENANT:_default' \
'--format=[csv or ndjson]:FORMAT:(csv ndjson)' \
'--from=[Entries at or after this time (RFC 3339)]:FROM:_default' \
'--to=[Entries before this time (RFC 3339)]:TO:_default' \
'--from-seq=[Start at this seq (to continue a truncated export)]:FROM_SEQ:_default' \
'-O+[Write here instead of standard output]:FILE:_files' \
'--out=[Write here instead of standard output]:FILE:_files' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(erase)
_arguments "${_arguments_options[@]}" : \
'--tenant=[]:TENANT:_default' \
'--subject=[]:SUBJECT:_default' \
'--before=[Erase what was recorded before this time (RFC 3339)]:BEFORE:_default' \
'--totp=[A fresh TOTP code (or a recovery code) for step-up, sent as X-IntentGate-TOTP]:CODE:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(prune)
_arguments "${_arguments_options[@]}" : \
'--tenant=[]:TENANT:_default' \
'--before=[Remove entries recorded before this time (RFC 3339)]:BEFORE:_default' \
'--reason=[]:REASON:_default' \
'--totp=[A fresh TOTP code (or a recovery code) for step-up, sent as X-IntentGate-TOTP]:CODE:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(rebaseline)
_arguments "${_arguments_options[@]}" : \
'--tenant=[]:TENANT:_default' \
'--reason=[]:REASON:_default' \
'*--accept=[Accept the marker or key announcement with this seq and hash though igd did not write it (after checking it; repeatable; the refusal names both). Without it such an entry refuses the re-baseline]:SEQ:HASH:_default' \
'--totp=[A fresh TOTP code (or a recovery code) for step-up, sent as X-IntentGate-TOTP]:CODE:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(evidence)
_arguments "${_arguments_options[@]}" : \
'--tenant=[]:TENANT:_default' \
'--from=[Window start (RFC 3339; recorded in the report)]:FROM:_default' \
'--to=[Window end (RFC 3339)\: entries at or after it are left out]:TO:_default' \
'--pubkey=[Verifier keys to build against (default\: keys pinned on first use)]:FILE:_files' \
'--out=[Where to write the pack]:FILE:_files' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(verify-pack)
_arguments "${_arguments_options[@]}" : \
'--pubkey=[Verifier key file (required\: evidence is never trusted on first use)]:FILE:_files' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
':pack -- The pack (.tar.gz):_files' \
&& ret=0
;;
(verify)
_arguments "${_arguments_options[@]}" : \
'--tenant=[Only this tenant (default\: every tenant in scope)]:TENANT:_default' \
'--pubkey=[Verifier keys to trust (one \`name+id+key\` per line); default\: keys pinned on first use under the config dir]:FILE:_files' \
'--pin=[Pinned newest checkpoints (JSON, tenant → note)\: the chain must still contain them; updated after each successful run]:FILE:_files' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'--require-anchor[Fail (exit 6) when entries after the newest checkpoint are not yet anchored]' \
'--server[Ask igd for its own verdict instead of recomputing locally]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__audit__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-audit-help-command-$line[1]:"
        case $line[1] in
            (list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(export)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(erase)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(prune)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(rebaseline)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(evidence)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(verify-pack)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(verify)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(policy)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
":: :_igctl__subcmd__policy_commands" \
"*::: :->policy" \
&& ret=0

    case $state in
    (policy)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-policy-command-$line[1]:"
        case $line[1] in
            (check)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
'*::files -- Policy files (*_test.rego ones are its tests) or directories:_files' \
&& ret=0
;;
(test)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
'*::dirs -- Directories (or files, taken together as one policy):_files' \
&& ret=0
;;
(eval)
_arguments "${_arguments_options[@]}" : \
'-i+[The input document (DESIGN §4.3)\: JSON text, @FILE, or - for standard input]:JSON:_default' \
'--input=[The input document (DESIGN §4.3)\: JSON text, @FILE, or - for standard input]:JSON:_default' \
'--timeout-ms=[Evaluation time limit in milliseconds (igd'\''s INTENTGATE_POLICY_TIMEOUT_MS)]:MS:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
'*::files -- Policy files or a directory (*_test.rego files are left out):_files' \
&& ret=0
;;
(draft)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
":: :_igctl__subcmd__policy__subcmd__draft_commands" \
"*::: :->draft" \
&& ret=0

    case $state in
    (draft)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-policy-draft-command-$line[1]:"
        case $line[1] in
            (create)
_arguments "${_arguments_options[@]}" : \
'--name=[Default\: the directory'\''s name]:NAME:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
'*::files:_files' \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(show)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
':id:_default' \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
':id:_default' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__policy__subcmd__draft__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-policy-draft-help-command-$line[1]:"
        case $line[1] in
            (create)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(show)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(dry-run)
_arguments "${_arguments_options[@]}" : \
'--from=[Start (RFC 3339); default\: 24 hours before --to]:FROM:_default' \
'--to=[End (RFC 3339); default\: now]:TO:_default' \
'--samples=[Most divergent calls to show]:SAMPLES:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
':candidate -- A draft id (d-…) or policy files / a directory:_default' \
&& ret=0
;;
(diff)
_arguments "${_arguments_options[@]}" : \
'--from=[Start (RFC 3339); default\: 24 hours before --to]:FROM:_default' \
'--to=[End (RFC 3339); default\: now]:TO:_default' \
'--samples=[Most divergent calls to show]:SAMPLES:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
':a:_default' \
':b:_default' \
&& ret=0
;;
(promote)
_arguments "${_arguments_options[@]}" : \
'--totp=[A fresh TOTP code (or a recovery code), sent as X-IntentGate-TOTP]:CODE:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
':draft_id -- The draft id (d-…):_default' \
&& ret=0
;;
(rollback)
_arguments "${_arguments_options[@]}" : \
'--totp=[A fresh TOTP code (or a recovery code), sent as X-IntentGate-TOTP]:CODE:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(active)
_arguments "${_arguments_options[@]}" : \
'--totp=[With --clear (a step-up action)\: a fresh TOTP code, sent as X-IntentGate-TOTP]:CODE:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'--clear[]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__policy__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-policy-help-command-$line[1]:"
        case $line[1] in
            (check)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(test)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(eval)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(draft)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__policy__subcmd__help__subcmd__draft_commands" \
"*::: :->draft" \
&& ret=0

    case $state in
    (draft)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-policy-help-draft-command-$line[1]:"
        case $line[1] in
            (create)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(show)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(dry-run)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(diff)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(promote)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(rollback)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(active)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(approvals)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
":: :_igctl__subcmd__approvals_commands" \
"*::: :->approvals" \
&& ret=0

    case $state in
    (approvals)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-approvals-command-$line[1]:"
        case $line[1] in
            (list)
_arguments "${_arguments_options[@]}" : \
'--status=[Which rows]:STATUS:(pending approved rejected timeout forwarded lapsed all)' \
'--tenant=[Only this tenant]:TENANT:_default' \
'--limit=[Most rows (1..=10000; igd'\''s default 1000)]:LIMIT:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(decide)
_arguments "${_arguments_options[@]}" : \
'--note=[A note for the audit log]:NOTE:_default' \
'--totp=[A fresh TOTP code\: approving a call marked STEP-UP needs one]:CODE:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'(--reject)--approve[Approve the call]' \
'--reject[Reject the call]' \
'-h[Print help]' \
'--help[Print help]' \
':id -- The approval'\''s id (apr_…):_default' \
'::decision -- approve or reject (or --approve / --reject):(approve reject)' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__approvals__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-approvals-help-command-$line[1]:"
        case $line[1] in
            (list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(decide)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(operator)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
":: :_igctl__subcmd__operator_commands" \
"*::: :->operator" \
&& ret=0

    case $state in
    (operator)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-operator-command-$line[1]:"
        case $line[1] in
            (add)
_arguments "${_arguments_options[@]}" : \
'--role=[viewer, operator or admin]:ROLE:(viewer operator admin)' \
'--tenant=[Confine a viewer or operator to one tenant]:TENANT:_default' \
'--uid=[The Unix uid it connects to the admin socket as]:UID:_default' \
'--cert-subject=[Its client certificate subject on the mTLS admin listener (RFC 4514, e.g. CN=oncall-1,O=Example)]:SUBJECT:_default' \
'--totp=[A fresh TOTP code for step-up, sent as X-IntentGate-TOTP]:CODE:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'--issue-token[Issue an API token for it (printed once; igd keeps only its hash)]' \
'-h[Print help]' \
'--help[Print help]' \
':name -- The account'\''s name (\[a-z0-9\]\[a-z0-9._-\]{0,62})\: the identity in the audit log:_default' \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(remove)
_arguments "${_arguments_options[@]}" : \
'--totp=[A fresh TOTP code for step-up, sent as X-IntentGate-TOTP]:CODE:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
':name -- The account'\''s name:_default' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__operator__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-operator-help-command-$line[1]:"
        case $line[1] in
            (add)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(remove)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(totp)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
":: :_igctl__subcmd__totp_commands" \
"*::: :->totp" \
&& ret=0

    case $state in
    (totp)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-totp-command-$line[1]:"
        case $line[1] in
            (enroll)
_arguments "${_arguments_options[@]}" : \
'--totp=[When replacing a confirmed enrollment\: a code of the current one]:CODE:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(confirm)
_arguments "${_arguments_options[@]}" : \
'--code=[The 6-digit code the app shows now]:CODE:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(disable)
_arguments "${_arguments_options[@]}" : \
'--identity=[Another identity (an operator name, uid\:N)]:ID:_default' \
'--totp=[A fresh TOTP code for step-up, sent as X-IntentGate-TOTP]:CODE:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__totp__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-totp-help-command-$line[1]:"
        case $line[1] in
            (enroll)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(confirm)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(disable)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(elevate)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
":: :_igctl__subcmd__elevate_commands" \
"*::: :->elevate" \
&& ret=0

    case $state in
    (elevate)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-elevate-command-$line[1]:"
        case $line[1] in
            (request)
_arguments "${_arguments_options[@]}" : \
'--reason=[Why (required; recorded in the audit log)]:REASON:_default' \
'--duration=[5m, 15m, 30m, 1h or 4h]:DURATION:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(approve)
_arguments "${_arguments_options[@]}" : \
'--totp=[A fresh TOTP code for step-up, sent as X-IntentGate-TOTP]:CODE:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
':id -- The elevation id (elv_…):_default' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__elevate__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-elevate-help-command-$line[1]:"
        case $line[1] in
            (request)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(approve)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(notify)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
":: :_igctl__subcmd__notify_commands" \
"*::: :->notify" \
&& ret=0

    case $state in
    (notify)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-notify-command-$line[1]:"
        case $line[1] in
            (add)
_arguments "${_arguments_options[@]}" : \
'--tenant=[The tenant whose findings the channel receives]:TENANT:_default' \
'--kind=[slack, teams or pagerduty]:KIND:(slack teams pagerduty)' \
'--name=[A name for people (\[a-z0-9\]\[a-z0-9._-\]{0,62}, unique in the tenant)]:NAME:_default' \
'(--routing-key --events-url)--webhook-url=[Slack or Teams\: the webhook URL; \`-\` reads it from a prompt or stdin. (Not --url\: that names igd.)]:URL:_default' \
'--routing-key=[PagerDuty\: the integration (routing) key; \`-\` reads it from a prompt or stdin]:KEY:_default' \
'--events-url=[PagerDuty\: another Events API v2 endpoint (default https\://events.pagerduty.com/v2/enqueue; the EU service is https\://events.eu.pagerduty.com/v2/enqueue)]:URL:_default' \
'*--events=[Comma-separated\: deny, escalate, requires_step_up, approval_timeout (default\: all four)]:EVENTS:(deny escalate requires_step_up approval_timeout)' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
'--tenant=[Only this tenant'\''s channels]:TENANT:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'--json[Print JSON (the same as --output json)]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(test)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
':id -- The channel id (ntf_…):_default' \
&& ret=0
;;
(preview)
_arguments "${_arguments_options[@]}" : \
'--event=[The audit entry'\''s event_id (32 hex), e.g. a decision_id from a refusal]:EVENT_ID:_default' \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
':id -- The channel id (ntf_…):_default' \
&& ret=0
;;
(remove)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
':id -- The channel id (ntf_…):_default' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__notify__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-notify-help-command-$line[1]:"
        case $line[1] in
            (add)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(test)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(preview)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(remove)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(integrations)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'--json[Print JSON (the same as --output json)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(whoami)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(login)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(logout)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
':shell -- bash, zsh, fish, elvish or powershell:(bash elvish fish powershell zsh)' \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
'--socket=[igd'\''s admin Unix socket]:PATH:_files' \
'--url=[igd'\''s admin URL (or IGCTL_URL)\: https\://HOST\:PORT (TLS, verified against --ca or the system roots; the mTLS admin listener with --cert and --key), or http\:// on loopback, with --token]:URL:_default' \
'--ca=[PEM file of the CA that signed igd'\''s certificate, trusted instead of the system roots for an https\:// --url (or IGCTL_CA)]:FILE:_files' \
'--cert=[PEM client certificate presented to igd'\''s mTLS admin listener (https\:// --url; or IGCTL_CERT). Its subject is your identity\: an operator account must name it]:FILE:_files' \
'--key=[PEM private key of --cert (or IGCTL_KEY)]:FILE:_files' \
'--token=[Bearer token for --url (or IGCTL_TOKEN)\: an operator API token (igo_…) or the compatibility admin token]:TOKEN:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-help-command-$line[1]:"
        case $line[1] in
            (mint)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(tokens)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__help__subcmd__tokens_commands" \
"*::: :->tokens" \
&& ret=0

    case $state in
    (tokens)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-help-tokens-command-$line[1]:"
        case $line[1] in
            (list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(revoke)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(revocations)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(stop)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(unstop)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(token)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__help__subcmd__token_commands" \
"*::: :->token" \
&& ret=0

    case $state in
    (token)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-help-token-command-$line[1]:"
        case $line[1] in
            (inspect)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(attenuate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(gen-key)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(tenants)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(agents)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(health)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(audit)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__help__subcmd__audit_commands" \
"*::: :->audit" \
&& ret=0

    case $state in
    (audit)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-help-audit-command-$line[1]:"
        case $line[1] in
            (list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(export)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(erase)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(prune)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(rebaseline)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(evidence)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(verify-pack)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(verify)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(policy)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__help__subcmd__policy_commands" \
"*::: :->policy" \
&& ret=0

    case $state in
    (policy)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-help-policy-command-$line[1]:"
        case $line[1] in
            (check)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(test)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(eval)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(draft)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__help__subcmd__policy__subcmd__draft_commands" \
"*::: :->draft" \
&& ret=0

    case $state in
    (draft)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-help-policy-draft-command-$line[1]:"
        case $line[1] in
            (create)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(show)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(dry-run)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(diff)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(promote)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(rollback)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(active)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(approvals)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__help__subcmd__approvals_commands" \
"*::: :->approvals" \
&& ret=0

    case $state in
    (approvals)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-help-approvals-command-$line[1]:"
        case $line[1] in
            (list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(decide)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(operator)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__help__subcmd__operator_commands" \
"*::: :->operator" \
&& ret=0

    case $state in
    (operator)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-help-operator-command-$line[1]:"
        case $line[1] in
            (add)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(remove)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(totp)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__help__subcmd__totp_commands" \
"*::: :->totp" \
&& ret=0

    case $state in
    (totp)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-help-totp-command-$line[1]:"
        case $line[1] in
            (enroll)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(confirm)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(disable)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(elevate)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__help__subcmd__elevate_commands" \
"*::: :->elevate" \
&& ret=0

    case $state in
    (elevate)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-help-elevate-command-$line[1]:"
        case $line[1] in
            (request)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(approve)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(notify)
_arguments "${_arguments_options[@]}" : \
":: :_igctl__subcmd__help__subcmd__notify_commands" \
"*::: :->notify" \
&& ret=0

    case $state in
    (notify)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:igctl-help-notify-command-$line[1]:"
        case $line[1] in
            (add)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(test)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(preview)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(remove)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(integrations)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(whoami)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(login)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(logout)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_igctl_commands] )) ||
_igctl_commands() {
    local commands; commands=(
'mint:Mint a capability token (printed once; igd keeps only its metadata)' \
'tokens:Minted root tokens' \
'revoke:Revoke a token (and every token attenuated from it) by jti' \
'revocations:List revocations' \
'stop:Place an emergency stop on a tenant or one of its subjects' \
'unstop:Lift an emergency stop' \
'token:Work with a token offline (no daemon needed)' \
'gen-key:Generate a master key (64 hex characters) for INTENTGATE_MASTER_KEY, or with --audit an Ed25519 audit signing key (PKCS#8 PEM) for INTENTGATE_AUDIT_SIGNING_KEY' \
'tenants:List tenants' \
'agents:Agents seen in the audit log\: first and last seen, calls allowed and refused' \
'health:Ask igd whether it is ready' \
'audit:Read and verify the audit log' \
'policy:Rego policies\: check, test and evaluate them offline; drafts, dry-run, diff, promote, rollback and the active policy in igd' \
'approvals:The approvals queue\: calls the policy escalated, held until an operator decides. Alone\: the live TUI on a terminal (keys\: ↑/↓ select, a approve, r reject, / filter, ? help, q quit), the same as \`approvals list\` anywhere else' \
'operator:Operator accounts\: who may use the admin API, with which role (admins, step-up)' \
'totp:TOTP step-up for your own identity\: enroll an authenticator app, or disable it' \
'elevate:Just-in-time elevation\: an operator asks for admin for a while; another admin approves' \
'notify:Notification channels\: Slack, Microsoft Teams and PagerDuty, one tenant each. Blocked, escalated and step-up calls and approval time-outs of the tenant are posted to them (one message per finding) through the audit fan-out' \
'integrations:The audit fan-out'\''s sinks (webhook, SIEM, notification channels)\: state (ok, retrying, refused, standby, starting), entries not yet delivered (LAG), the age of the oldest one, deliveries and failures since igd started, and the last error. Operators and admins; a tenant-confined caller sees its tenant'\''s sinks only' \
'whoami:Show the identity igd sees for this connection\: role, tenant, TOTP, elevation' \
'login:Check credentials against igd and store them, for commands run without --socket, --url or IGCTL_*' \
'logout:Remove the credentials igctl login stored (keyring entry and file)' \
'completions:Print shell completions' \
'man:Print the man page (roff)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl commands' commands "$@"
}
(( $+functions[_igctl__subcmd__agents_commands] )) ||
_igctl__subcmd__agents_commands() {
    local commands; commands=()
    _describe -t commands 'igctl agents commands' commands "$@"
}
(( $+functions[_igctl__subcmd__approvals_commands] )) ||
_igctl__subcmd__approvals_commands() {
    local commands; commands=(
'list:List approvals\: id, tenant, agent, tool, reason, step-up, time left (or status)' \
'decide:Approve or reject a pending call; prints the decided row. Exit 1 if it was already decided, 4 if a step-up code is needed or wrong' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl approvals commands' commands "$@"
}
(( $+functions[_igctl__subcmd__approvals__subcmd__decide_commands] )) ||
_igctl__subcmd__approvals__subcmd__decide_commands() {
    local commands; commands=()
    _describe -t commands 'igctl approvals decide commands' commands "$@"
}
(( $+functions[_igctl__subcmd__approvals__subcmd__help_commands] )) ||
_igctl__subcmd__approvals__subcmd__help_commands() {
    local commands; commands=(
'list:List approvals\: id, tenant, agent, tool, reason, step-up, time left (or status)' \
'decide:Approve or reject a pending call; prints the decided row. Exit 1 if it was already decided, 4 if a step-up code is needed or wrong' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl approvals help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__approvals__subcmd__help__subcmd__decide_commands] )) ||
_igctl__subcmd__approvals__subcmd__help__subcmd__decide_commands() {
    local commands; commands=()
    _describe -t commands 'igctl approvals help decide commands' commands "$@"
}
(( $+functions[_igctl__subcmd__approvals__subcmd__help__subcmd__help_commands] )) ||
_igctl__subcmd__approvals__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'igctl approvals help help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__approvals__subcmd__help__subcmd__list_commands] )) ||
_igctl__subcmd__approvals__subcmd__help__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl approvals help list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__approvals__subcmd__list_commands] )) ||
_igctl__subcmd__approvals__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl approvals list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__audit_commands] )) ||
_igctl__subcmd__audit_commands() {
    local commands; commands=(
'list:List audit entries' \
'export:Export one tenant'\''s chain, one row per entry (CSV or NDJSON), streamed' \
'erase:Erase a subject'\''s stored argument values, salts and recorded policy inputs (address, intent) before a time (GDPR); the chain and its verification are untouched, the erased decisions are no longer replayed by dry-run, and the erasure itself is chained' \
'prune:Retention\: cut a tenant'\''s chain before a time; a signed \`marker\` records the cut and verification continues from it' \
'rebaseline:After a database restore\: record where the chain leaves the signed history (the fork point, in a \`marker\`) and let the signer anchor it again; verifiers excuse only the checkpoints past the fork point' \
'evidence:Write an evidence pack (.tar.gz)\: entries, checkpoints, keys, report, manifest, controls' \
'verify-pack:Re-verify an evidence pack offline (no daemon) against a pinned key' \
'verify:Verify the chains locally\: fetch entries and signed checkpoints and recompute everything against pinned keys. Exit 3 when tampered, 6 when unverifiable' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl audit commands' commands "$@"
}
(( $+functions[_igctl__subcmd__audit__subcmd__erase_commands] )) ||
_igctl__subcmd__audit__subcmd__erase_commands() {
    local commands; commands=()
    _describe -t commands 'igctl audit erase commands' commands "$@"
}
(( $+functions[_igctl__subcmd__audit__subcmd__evidence_commands] )) ||
_igctl__subcmd__audit__subcmd__evidence_commands() {
    local commands; commands=()
    _describe -t commands 'igctl audit evidence commands' commands "$@"
}
(( $+functions[_igctl__subcmd__audit__subcmd__export_commands] )) ||
_igctl__subcmd__audit__subcmd__export_commands() {
    local commands; commands=()
    _describe -t commands 'igctl audit export commands' commands "$@"
}
(( $+functions[_igctl__subcmd__audit__subcmd__help_commands] )) ||
_igctl__subcmd__audit__subcmd__help_commands() {
    local commands; commands=(
'list:List audit entries' \
'export:Export one tenant'\''s chain, one row per entry (CSV or NDJSON), streamed' \
'erase:Erase a subject'\''s stored argument values, salts and recorded policy inputs (address, intent) before a time (GDPR); the chain and its verification are untouched, the erased decisions are no longer replayed by dry-run, and the erasure itself is chained' \
'prune:Retention\: cut a tenant'\''s chain before a time; a signed \`marker\` records the cut and verification continues from it' \
'rebaseline:After a database restore\: record where the chain leaves the signed history (the fork point, in a \`marker\`) and let the signer anchor it again; verifiers excuse only the checkpoints past the fork point' \
'evidence:Write an evidence pack (.tar.gz)\: entries, checkpoints, keys, report, manifest, controls' \
'verify-pack:Re-verify an evidence pack offline (no daemon) against a pinned key' \
'verify:Verify the chains locally\: fetch entries and signed checkpoints and recompute everything against pinned keys. Exit 3 when tampered, 6 when unverifiable' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl audit help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__audit__subcmd__help__subcmd__erase_commands] )) ||
_igctl__subcmd__audit__subcmd__help__subcmd__erase_commands() {
    local commands; commands=()
    _describe -t commands 'igctl audit help erase commands' commands "$@"
}
(( $+functions[_igctl__subcmd__audit__subcmd__help__subcmd__evidence_commands] )) ||
_igctl__subcmd__audit__subcmd__help__subcmd__evidence_commands() {
    local commands; commands=()
    _describe -t commands 'igctl audit help evidence commands' commands "$@"
}
(( $+functions[_igctl__subcmd__audit__subcmd__help__subcmd__export_commands] )) ||
_igctl__subcmd__audit__subcmd__help__subcmd__export_commands() {
    local commands; commands=()
    _describe -t commands 'igctl audit help export commands' commands "$@"
}
(( $+functions[_igctl__subcmd__audit__subcmd__help__subcmd__help_commands] )) ||
_igctl__subcmd__audit__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'igctl audit help help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__audit__subcmd__help__subcmd__list_commands] )) ||
_igctl__subcmd__audit__subcmd__help__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl audit help list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__audit__subcmd__help__subcmd__prune_commands] )) ||
_igctl__subcmd__audit__subcmd__help__subcmd__prune_commands() {
    local commands; commands=()
    _describe -t commands 'igctl audit help prune commands' commands "$@"
}
(( $+functions[_igctl__subcmd__audit__subcmd__help__subcmd__rebaseline_commands] )) ||
_igctl__subcmd__audit__subcmd__help__subcmd__rebaseline_commands() {
    local commands; commands=()
    _describe -t commands 'igctl audit help rebaseline commands' commands "$@"
}
(( $+functions[_igctl__subcmd__audit__subcmd__help__subcmd__verify_commands] )) ||
_igctl__subcmd__audit__subcmd__help__subcmd__verify_commands() {
    local commands; commands=()
    _describe -t commands 'igctl audit help verify commands' commands "$@"
}
(( $+functions[_igctl__subcmd__audit__subcmd__help__subcmd__verify-pack_commands] )) ||
_igctl__subcmd__audit__subcmd__help__subcmd__verify-pack_commands() {
    local commands; commands=()
    _describe -t commands 'igctl audit help verify-pack commands' commands "$@"
}
(( $+functions[_igctl__subcmd__audit__subcmd__list_commands] )) ||
_igctl__subcmd__audit__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl audit list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__audit__subcmd__prune_commands] )) ||
_igctl__subcmd__audit__subcmd__prune_commands() {
    local commands; commands=()
    _describe -t commands 'igctl audit prune commands' commands "$@"
}
(( $+functions[_igctl__subcmd__audit__subcmd__rebaseline_commands] )) ||
_igctl__subcmd__audit__subcmd__rebaseline_commands() {
    local commands; commands=()
    _describe -t commands 'igctl audit rebaseline commands' commands "$@"
}
(( $+functions[_igctl__subcmd__audit__subcmd__verify_commands] )) ||
_igctl__subcmd__audit__subcmd__verify_commands() {
    local commands; commands=()
    _describe -t commands 'igctl audit verify commands' commands "$@"
}
(( $+functions[_igctl__subcmd__audit__subcmd__verify-pack_commands] )) ||
_igctl__subcmd__audit__subcmd__verify-pack_commands() {
    local commands; commands=()
    _describe -t commands 'igctl audit verify-pack commands' commands "$@"
}
(( $+functions[_igctl__subcmd__completions_commands] )) ||
_igctl__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'igctl completions commands' commands "$@"
}
(( $+functions[_igctl__subcmd__elevate_commands] )) ||
_igctl__subcmd__elevate_commands() {
    local commands; commands=(
'request:Ask for admin for a while (operators); another admin approves it' \
'list:List elevations\: pending, active and expired' \
'approve:Approve another identity'\''s elevation (admin, step-up; never your own)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl elevate commands' commands "$@"
}
(( $+functions[_igctl__subcmd__elevate__subcmd__approve_commands] )) ||
_igctl__subcmd__elevate__subcmd__approve_commands() {
    local commands; commands=()
    _describe -t commands 'igctl elevate approve commands' commands "$@"
}
(( $+functions[_igctl__subcmd__elevate__subcmd__help_commands] )) ||
_igctl__subcmd__elevate__subcmd__help_commands() {
    local commands; commands=(
'request:Ask for admin for a while (operators); another admin approves it' \
'list:List elevations\: pending, active and expired' \
'approve:Approve another identity'\''s elevation (admin, step-up; never your own)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl elevate help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__elevate__subcmd__help__subcmd__approve_commands] )) ||
_igctl__subcmd__elevate__subcmd__help__subcmd__approve_commands() {
    local commands; commands=()
    _describe -t commands 'igctl elevate help approve commands' commands "$@"
}
(( $+functions[_igctl__subcmd__elevate__subcmd__help__subcmd__help_commands] )) ||
_igctl__subcmd__elevate__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'igctl elevate help help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__elevate__subcmd__help__subcmd__list_commands] )) ||
_igctl__subcmd__elevate__subcmd__help__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl elevate help list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__elevate__subcmd__help__subcmd__request_commands] )) ||
_igctl__subcmd__elevate__subcmd__help__subcmd__request_commands() {
    local commands; commands=()
    _describe -t commands 'igctl elevate help request commands' commands "$@"
}
(( $+functions[_igctl__subcmd__elevate__subcmd__list_commands] )) ||
_igctl__subcmd__elevate__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl elevate list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__elevate__subcmd__request_commands] )) ||
_igctl__subcmd__elevate__subcmd__request_commands() {
    local commands; commands=()
    _describe -t commands 'igctl elevate request commands' commands "$@"
}
(( $+functions[_igctl__subcmd__gen-key_commands] )) ||
_igctl__subcmd__gen-key_commands() {
    local commands; commands=()
    _describe -t commands 'igctl gen-key commands' commands "$@"
}
(( $+functions[_igctl__subcmd__health_commands] )) ||
_igctl__subcmd__health_commands() {
    local commands; commands=()
    _describe -t commands 'igctl health commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help_commands] )) ||
_igctl__subcmd__help_commands() {
    local commands; commands=(
'mint:Mint a capability token (printed once; igd keeps only its metadata)' \
'tokens:Minted root tokens' \
'revoke:Revoke a token (and every token attenuated from it) by jti' \
'revocations:List revocations' \
'stop:Place an emergency stop on a tenant or one of its subjects' \
'unstop:Lift an emergency stop' \
'token:Work with a token offline (no daemon needed)' \
'gen-key:Generate a master key (64 hex characters) for INTENTGATE_MASTER_KEY, or with --audit an Ed25519 audit signing key (PKCS#8 PEM) for INTENTGATE_AUDIT_SIGNING_KEY' \
'tenants:List tenants' \
'agents:Agents seen in the audit log\: first and last seen, calls allowed and refused' \
'health:Ask igd whether it is ready' \
'audit:Read and verify the audit log' \
'policy:Rego policies\: check, test and evaluate them offline; drafts, dry-run, diff, promote, rollback and the active policy in igd' \
'approvals:The approvals queue\: calls the policy escalated, held until an operator decides. Alone\: the live TUI on a terminal (keys\: ↑/↓ select, a approve, r reject, / filter, ? help, q quit), the same as \`approvals list\` anywhere else' \
'operator:Operator accounts\: who may use the admin API, with which role (admins, step-up)' \
'totp:TOTP step-up for your own identity\: enroll an authenticator app, or disable it' \
'elevate:Just-in-time elevation\: an operator asks for admin for a while; another admin approves' \
'notify:Notification channels\: Slack, Microsoft Teams and PagerDuty, one tenant each. Blocked, escalated and step-up calls and approval time-outs of the tenant are posted to them (one message per finding) through the audit fan-out' \
'integrations:The audit fan-out'\''s sinks (webhook, SIEM, notification channels)\: state (ok, retrying, refused, standby, starting), entries not yet delivered (LAG), the age of the oldest one, deliveries and failures since igd started, and the last error. Operators and admins; a tenant-confined caller sees its tenant'\''s sinks only' \
'whoami:Show the identity igd sees for this connection\: role, tenant, TOTP, elevation' \
'login:Check credentials against igd and store them, for commands run without --socket, --url or IGCTL_*' \
'logout:Remove the credentials igctl login stored (keyring entry and file)' \
'completions:Print shell completions' \
'man:Print the man page (roff)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__agents_commands] )) ||
_igctl__subcmd__help__subcmd__agents_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help agents commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__approvals_commands] )) ||
_igctl__subcmd__help__subcmd__approvals_commands() {
    local commands; commands=(
'list:List approvals\: id, tenant, agent, tool, reason, step-up, time left (or status)' \
'decide:Approve or reject a pending call; prints the decided row. Exit 1 if it was already decided, 4 if a step-up code is needed or wrong' \
    )
    _describe -t commands 'igctl help approvals commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__approvals__subcmd__decide_commands] )) ||
_igctl__subcmd__help__subcmd__approvals__subcmd__decide_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help approvals decide commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__approvals__subcmd__list_commands] )) ||
_igctl__subcmd__help__subcmd__approvals__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help approvals list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__audit_commands] )) ||
_igctl__subcmd__help__subcmd__audit_commands() {
    local commands; commands=(
'list:List audit entries' \
'export:Export one tenant'\''s chain, one row per entry (CSV or NDJSON), streamed' \
'erase:Erase a subject'\''s stored argument values, salts and recorded policy inputs (address, intent) before a time (GDPR); the chain and its verification are untouched, the erased decisions are no longer replayed by dry-run, and the erasure itself is chained' \
'prune:Retention\: cut a tenant'\''s chain before a time; a signed \`marker\` records the cut and verification continues from it' \
'rebaseline:After a database restore\: record where the chain leaves the signed history (the fork point, in a \`marker\`) and let the signer anchor it again; verifiers excuse only the checkpoints past the fork point' \
'evidence:Write an evidence pack (.tar.gz)\: entries, checkpoints, keys, report, manifest, controls' \
'verify-pack:Re-verify an evidence pack offline (no daemon) against a pinned key' \
'verify:Verify the chains locally\: fetch entries and signed checkpoints and recompute everything against pinned keys. Exit 3 when tampered, 6 when unverifiable' \
    )
    _describe -t commands 'igctl help audit commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__audit__subcmd__erase_commands] )) ||
_igctl__subcmd__help__subcmd__audit__subcmd__erase_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help audit erase commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__audit__subcmd__evidence_commands] )) ||
_igctl__subcmd__help__subcmd__audit__subcmd__evidence_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help audit evidence commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__audit__subcmd__export_commands] )) ||
_igctl__subcmd__help__subcmd__audit__subcmd__export_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help audit export commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__audit__subcmd__list_commands] )) ||
_igctl__subcmd__help__subcmd__audit__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help audit list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__audit__subcmd__prune_commands] )) ||
_igctl__subcmd__help__subcmd__audit__subcmd__prune_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help audit prune commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__audit__subcmd__rebaseline_commands] )) ||
_igctl__subcmd__help__subcmd__audit__subcmd__rebaseline_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help audit rebaseline commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__audit__subcmd__verify_commands] )) ||
_igctl__subcmd__help__subcmd__audit__subcmd__verify_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help audit verify commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__audit__subcmd__verify-pack_commands] )) ||
_igctl__subcmd__help__subcmd__audit__subcmd__verify-pack_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help audit verify-pack commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__completions_commands] )) ||
_igctl__subcmd__help__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help completions commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__elevate_commands] )) ||
_igctl__subcmd__help__subcmd__elevate_commands() {
    local commands; commands=(
'request:Ask for admin for a while (operators); another admin approves it' \
'list:List elevations\: pending, active and expired' \
'approve:Approve another identity'\''s elevation (admin, step-up; never your own)' \
    )
    _describe -t commands 'igctl help elevate commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__elevate__subcmd__approve_commands] )) ||
_igctl__subcmd__help__subcmd__elevate__subcmd__approve_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help elevate approve commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__elevate__subcmd__list_commands] )) ||
_igctl__subcmd__help__subcmd__elevate__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help elevate list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__elevate__subcmd__request_commands] )) ||
_igctl__subcmd__help__subcmd__elevate__subcmd__request_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help elevate request commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__gen-key_commands] )) ||
_igctl__subcmd__help__subcmd__gen-key_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help gen-key commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__health_commands] )) ||
_igctl__subcmd__help__subcmd__health_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help health commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__help_commands] )) ||
_igctl__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__integrations_commands] )) ||
_igctl__subcmd__help__subcmd__integrations_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help integrations commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__login_commands] )) ||
_igctl__subcmd__help__subcmd__login_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help login commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__logout_commands] )) ||
_igctl__subcmd__help__subcmd__logout_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help logout commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__man_commands] )) ||
_igctl__subcmd__help__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help man commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__mint_commands] )) ||
_igctl__subcmd__help__subcmd__mint_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help mint commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__notify_commands] )) ||
_igctl__subcmd__help__subcmd__notify_commands() {
    local commands; commands=(
'add:Add a channel (an admin, or the tenant admin of --tenant). The webhook URL or routing key is sealed in igd'\''s store and never shown again; pass \`-\` to type it at a prompt (or pipe it on stdin) so it stays out of your shell history' \
'list:List channels (of your tenants)\: id, kind, events and the receiver'\''s host' \
'test:Send one clearly marked test message to a channel now and show the receiver'\''s answer (exit 1 when it refused). PagerDuty gets an \`info\` alert titled \[TEST\]\: resolve it' \
'preview:Print the exact JSON body a channel would be sent for an audit entry of its tenant, or for a sample blocked call; nothing is sent. A PagerDuty routing key shows as <redacted>' \
'remove:Remove a channel (an admin, or the tenant admin of its tenant); delivery to it stops' \
    )
    _describe -t commands 'igctl help notify commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__notify__subcmd__add_commands] )) ||
_igctl__subcmd__help__subcmd__notify__subcmd__add_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help notify add commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__notify__subcmd__list_commands] )) ||
_igctl__subcmd__help__subcmd__notify__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help notify list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__notify__subcmd__preview_commands] )) ||
_igctl__subcmd__help__subcmd__notify__subcmd__preview_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help notify preview commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__notify__subcmd__remove_commands] )) ||
_igctl__subcmd__help__subcmd__notify__subcmd__remove_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help notify remove commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__notify__subcmd__test_commands] )) ||
_igctl__subcmd__help__subcmd__notify__subcmd__test_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help notify test commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__operator_commands] )) ||
_igctl__subcmd__help__subcmd__operator_commands() {
    local commands; commands=(
'add:Add an operator account (admin, step-up). It authenticates by a uid on the admin socket, a client certificate subject and/or an API token (--token\: shown once)' \
'list:List operator accounts' \
'remove:Remove an operator account and its TOTP enrollment (admin, step-up)' \
    )
    _describe -t commands 'igctl help operator commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__operator__subcmd__add_commands] )) ||
_igctl__subcmd__help__subcmd__operator__subcmd__add_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help operator add commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__operator__subcmd__list_commands] )) ||
_igctl__subcmd__help__subcmd__operator__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help operator list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__operator__subcmd__remove_commands] )) ||
_igctl__subcmd__help__subcmd__operator__subcmd__remove_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help operator remove commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__policy_commands] )) ||
_igctl__subcmd__help__subcmd__policy_commands() {
    local commands; commands=(
'check:Parse and compile policies and their tests, and check the entrypoint (\`decision\` in package \`intentgate.policy\`), the size limits and the safety rules (no network, clock or randomness builtins). Offline. Each directory holding .rego files (searched recursively) is one policy; the files named are one more. Problems are printed as FILE\:LINE\:COLUMN\: MESSAGE; exit 1 if there is any' \
'test:Run the policies'\'' tests, like \`opa test\`\: every rule named test_* (in *_test.rego files and in the policy) evaluated as data.PACKAGE.RULE passes when it is true; todo_test_* rules are skipped. Offline. Each directory holding .rego files (searched recursively) is one policy with its tests. Exit 1 on a failed test or a policy that does not load' \
'eval:Evaluate a policy'\''s decision for one input, as igd would decide a call (offline). A deny is an answer\: the exit code is 0' \
'draft:Drafts in igd'\''s policy store\: a policy module and its *_test.rego modules, compiled and tested by igd before they are stored' \
'dry-run:Replay a candidate policy (a draft id or policy files) over the decisions recorded in a window (default\: the last 24 hours), on their recorded inputs\: how many calls it would allow, block and escalate, the transition matrix from what was decided then, and sample calls whose verdict changes. A progress bar on a terminal' \
'diff:Compare two policies (draft ids or files)\: the source diff, then B replayed against A on the same recorded inputs' \
'promote:Make a draft the active policy, on every replica within a second. igd compiles it and runs its tests again first. A step-up action\: pass --totp' \
'rollback:Return to the policy that was active before the current one (repeat to go further back; before the first promotion, the policy file decides). A step-up action' \
'active:Show what decides now (store, file or embedded default), its revision and the store'\''s recent changes; --clear deactivates the store'\''s policy (the file decides again)' \
    )
    _describe -t commands 'igctl help policy commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__policy__subcmd__active_commands] )) ||
_igctl__subcmd__help__subcmd__policy__subcmd__active_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help policy active commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__policy__subcmd__check_commands] )) ||
_igctl__subcmd__help__subcmd__policy__subcmd__check_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help policy check commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__policy__subcmd__diff_commands] )) ||
_igctl__subcmd__help__subcmd__policy__subcmd__diff_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help policy diff commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__policy__subcmd__draft_commands] )) ||
_igctl__subcmd__help__subcmd__policy__subcmd__draft_commands() {
    local commands; commands=(
'create:Store a draft\: one policy module and its *_test.rego files (or a directory of them)' \
'list:List drafts' \
'show:Show a draft with its sources' \
'delete:Delete a draft (what is active, and what a rollback returns to, keep their own copy)' \
    )
    _describe -t commands 'igctl help policy draft commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__policy__subcmd__draft__subcmd__create_commands] )) ||
_igctl__subcmd__help__subcmd__policy__subcmd__draft__subcmd__create_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help policy draft create commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__policy__subcmd__draft__subcmd__delete_commands] )) ||
_igctl__subcmd__help__subcmd__policy__subcmd__draft__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help policy draft delete commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__policy__subcmd__draft__subcmd__list_commands] )) ||
_igctl__subcmd__help__subcmd__policy__subcmd__draft__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help policy draft list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__policy__subcmd__draft__subcmd__show_commands] )) ||
_igctl__subcmd__help__subcmd__policy__subcmd__draft__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help policy draft show commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__policy__subcmd__dry-run_commands] )) ||
_igctl__subcmd__help__subcmd__policy__subcmd__dry-run_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help policy dry-run commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__policy__subcmd__eval_commands] )) ||
_igctl__subcmd__help__subcmd__policy__subcmd__eval_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help policy eval commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__policy__subcmd__promote_commands] )) ||
_igctl__subcmd__help__subcmd__policy__subcmd__promote_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help policy promote commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__policy__subcmd__rollback_commands] )) ||
_igctl__subcmd__help__subcmd__policy__subcmd__rollback_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help policy rollback commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__policy__subcmd__test_commands] )) ||
_igctl__subcmd__help__subcmd__policy__subcmd__test_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help policy test commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__revocations_commands] )) ||
_igctl__subcmd__help__subcmd__revocations_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help revocations commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__revoke_commands] )) ||
_igctl__subcmd__help__subcmd__revoke_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help revoke commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__stop_commands] )) ||
_igctl__subcmd__help__subcmd__stop_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help stop commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__tenants_commands] )) ||
_igctl__subcmd__help__subcmd__tenants_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help tenants commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__token_commands] )) ||
_igctl__subcmd__help__subcmd__token_commands() {
    local commands; commands=(
'inspect:Show a token'\''s claims and effective rights (never its tag; signature not checked)' \
'attenuate:Narrow a token offline by appending an attenuation block' \
    )
    _describe -t commands 'igctl help token commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__token__subcmd__attenuate_commands] )) ||
_igctl__subcmd__help__subcmd__token__subcmd__attenuate_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help token attenuate commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__token__subcmd__inspect_commands] )) ||
_igctl__subcmd__help__subcmd__token__subcmd__inspect_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help token inspect commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__tokens_commands] )) ||
_igctl__subcmd__help__subcmd__tokens_commands() {
    local commands; commands=(
'list:List live root tokens' \
    )
    _describe -t commands 'igctl help tokens commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__tokens__subcmd__list_commands] )) ||
_igctl__subcmd__help__subcmd__tokens__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help tokens list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__totp_commands] )) ||
_igctl__subcmd__help__subcmd__totp_commands() {
    local commands; commands=(
'enroll:Enroll an authenticator app for your identity\: prints the otpauth\:// URI and the secret (and a QR code on a terminal). On a terminal igctl then asks for the first code and prints ten one-time recovery codes, once; in a script, confirm with \`totp confirm\`. Re-enrolling replaces a confirmed enrollment and needs --totp with its current code' \
'confirm:Confirm a pending enrollment with the first code from the app; prints the ten one-time recovery codes, once' \
'disable:Disable TOTP\: your own (with your code), or with --identity another'\''s (admin, step-up)' \
    )
    _describe -t commands 'igctl help totp commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__totp__subcmd__confirm_commands] )) ||
_igctl__subcmd__help__subcmd__totp__subcmd__confirm_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help totp confirm commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__totp__subcmd__disable_commands] )) ||
_igctl__subcmd__help__subcmd__totp__subcmd__disable_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help totp disable commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__totp__subcmd__enroll_commands] )) ||
_igctl__subcmd__help__subcmd__totp__subcmd__enroll_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help totp enroll commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__unstop_commands] )) ||
_igctl__subcmd__help__subcmd__unstop_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help unstop commands' commands "$@"
}
(( $+functions[_igctl__subcmd__help__subcmd__whoami_commands] )) ||
_igctl__subcmd__help__subcmd__whoami_commands() {
    local commands; commands=()
    _describe -t commands 'igctl help whoami commands' commands "$@"
}
(( $+functions[_igctl__subcmd__integrations_commands] )) ||
_igctl__subcmd__integrations_commands() {
    local commands; commands=()
    _describe -t commands 'igctl integrations commands' commands "$@"
}
(( $+functions[_igctl__subcmd__login_commands] )) ||
_igctl__subcmd__login_commands() {
    local commands; commands=()
    _describe -t commands 'igctl login commands' commands "$@"
}
(( $+functions[_igctl__subcmd__logout_commands] )) ||
_igctl__subcmd__logout_commands() {
    local commands; commands=()
    _describe -t commands 'igctl logout commands' commands "$@"
}
(( $+functions[_igctl__subcmd__man_commands] )) ||
_igctl__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'igctl man commands' commands "$@"
}
(( $+functions[_igctl__subcmd__mint_commands] )) ||
_igctl__subcmd__mint_commands() {
    local commands; commands=()
    _describe -t commands 'igctl mint commands' commands "$@"
}
(( $+functions[_igctl__subcmd__notify_commands] )) ||
_igctl__subcmd__notify_commands() {
    local commands; commands=(
'add:Add a channel (an admin, or the tenant admin of --tenant). The webhook URL or routing key is sealed in igd'\''s store and never shown again; pass \`-\` to type it at a prompt (or pipe it on stdin) so it stays out of your shell history' \
'list:List channels (of your tenants)\: id, kind, events and the receiver'\''s host' \
'test:Send one clearly marked test message to a channel now and show the receiver'\''s answer (exit 1 when it refused). PagerDuty gets an \`info\` alert titled \[TEST\]\: resolve it' \
'preview:Print the exact JSON body a channel would be sent for an audit entry of its tenant, or for a sample blocked call; nothing is sent. A PagerDuty routing key shows as <redacted>' \
'remove:Remove a channel (an admin, or the tenant admin of its tenant); delivery to it stops' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl notify commands' commands "$@"
}
(( $+functions[_igctl__subcmd__notify__subcmd__add_commands] )) ||
_igctl__subcmd__notify__subcmd__add_commands() {
    local commands; commands=()
    _describe -t commands 'igctl notify add commands' commands "$@"
}
(( $+functions[_igctl__subcmd__notify__subcmd__help_commands] )) ||
_igctl__subcmd__notify__subcmd__help_commands() {
    local commands; commands=(
'add:Add a channel (an admin, or the tenant admin of --tenant). The webhook URL or routing key is sealed in igd'\''s store and never shown again; pass \`-\` to type it at a prompt (or pipe it on stdin) so it stays out of your shell history' \
'list:List channels (of your tenants)\: id, kind, events and the receiver'\''s host' \
'test:Send one clearly marked test message to a channel now and show the receiver'\''s answer (exit 1 when it refused). PagerDuty gets an \`info\` alert titled \[TEST\]\: resolve it' \
'preview:Print the exact JSON body a channel would be sent for an audit entry of its tenant, or for a sample blocked call; nothing is sent. A PagerDuty routing key shows as <redacted>' \
'remove:Remove a channel (an admin, or the tenant admin of its tenant); delivery to it stops' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl notify help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__notify__subcmd__help__subcmd__add_commands] )) ||
_igctl__subcmd__notify__subcmd__help__subcmd__add_commands() {
    local commands; commands=()
    _describe -t commands 'igctl notify help add commands' commands "$@"
}
(( $+functions[_igctl__subcmd__notify__subcmd__help__subcmd__help_commands] )) ||
_igctl__subcmd__notify__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'igctl notify help help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__notify__subcmd__help__subcmd__list_commands] )) ||
_igctl__subcmd__notify__subcmd__help__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl notify help list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__notify__subcmd__help__subcmd__preview_commands] )) ||
_igctl__subcmd__notify__subcmd__help__subcmd__preview_commands() {
    local commands; commands=()
    _describe -t commands 'igctl notify help preview commands' commands "$@"
}
(( $+functions[_igctl__subcmd__notify__subcmd__help__subcmd__remove_commands] )) ||
_igctl__subcmd__notify__subcmd__help__subcmd__remove_commands() {
    local commands; commands=()
    _describe -t commands 'igctl notify help remove commands' commands "$@"
}
(( $+functions[_igctl__subcmd__notify__subcmd__help__subcmd__test_commands] )) ||
_igctl__subcmd__notify__subcmd__help__subcmd__test_commands() {
    local commands; commands=()
    _describe -t commands 'igctl notify help test commands' commands "$@"
}
(( $+functions[_igctl__subcmd__notify__subcmd__list_commands] )) ||
_igctl__subcmd__notify__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl notify list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__notify__subcmd__preview_commands] )) ||
_igctl__subcmd__notify__subcmd__preview_commands() {
    local commands; commands=()
    _describe -t commands 'igctl notify preview commands' commands "$@"
}
(( $+functions[_igctl__subcmd__notify__subcmd__remove_commands] )) ||
_igctl__subcmd__notify__subcmd__remove_commands() {
    local commands; commands=()
    _describe -t commands 'igctl notify remove commands' commands "$@"
}
(( $+functions[_igctl__subcmd__notify__subcmd__test_commands] )) ||
_igctl__subcmd__notify__subcmd__test_commands() {
    local commands; commands=()
    _describe -t commands 'igctl notify test commands' commands "$@"
}
(( $+functions[_igctl__subcmd__operator_commands] )) ||
_igctl__subcmd__operator_commands() {
    local commands; commands=(
'add:Add an operator account (admin, step-up). It authenticates by a uid on the admin socket, a client certificate subject and/or an API token (--token\: shown once)' \
'list:List operator accounts' \
'remove:Remove an operator account and its TOTP enrollment (admin, step-up)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl operator commands' commands "$@"
}
(( $+functions[_igctl__subcmd__operator__subcmd__add_commands] )) ||
_igctl__subcmd__operator__subcmd__add_commands() {
    local commands; commands=()
    _describe -t commands 'igctl operator add commands' commands "$@"
}
(( $+functions[_igctl__subcmd__operator__subcmd__help_commands] )) ||
_igctl__subcmd__operator__subcmd__help_commands() {
    local commands; commands=(
'add:Add an operator account (admin, step-up). It authenticates by a uid on the admin socket, a client certificate subject and/or an API token (--token\: shown once)' \
'list:List operator accounts' \
'remove:Remove an operator account and its TOTP enrollment (admin, step-up)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl operator help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__operator__subcmd__help__subcmd__add_commands] )) ||
_igctl__subcmd__operator__subcmd__help__subcmd__add_commands() {
    local commands; commands=()
    _describe -t commands 'igctl operator help add commands' commands "$@"
}
(( $+functions[_igctl__subcmd__operator__subcmd__help__subcmd__help_commands] )) ||
_igctl__subcmd__operator__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'igctl operator help help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__operator__subcmd__help__subcmd__list_commands] )) ||
_igctl__subcmd__operator__subcmd__help__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl operator help list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__operator__subcmd__help__subcmd__remove_commands] )) ||
_igctl__subcmd__operator__subcmd__help__subcmd__remove_commands() {
    local commands; commands=()
    _describe -t commands 'igctl operator help remove commands' commands "$@"
}
(( $+functions[_igctl__subcmd__operator__subcmd__list_commands] )) ||
_igctl__subcmd__operator__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl operator list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__operator__subcmd__remove_commands] )) ||
_igctl__subcmd__operator__subcmd__remove_commands() {
    local commands; commands=()
    _describe -t commands 'igctl operator remove commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy_commands] )) ||
_igctl__subcmd__policy_commands() {
    local commands; commands=(
'check:Parse and compile policies and their tests, and check the entrypoint (\`decision\` in package \`intentgate.policy\`), the size limits and the safety rules (no network, clock or randomness builtins). Offline. Each directory holding .rego files (searched recursively) is one policy; the files named are one more. Problems are printed as FILE\:LINE\:COLUMN\: MESSAGE; exit 1 if there is any' \
'test:Run the policies'\'' tests, like \`opa test\`\: every rule named test_* (in *_test.rego files and in the policy) evaluated as data.PACKAGE.RULE passes when it is true; todo_test_* rules are skipped. Offline. Each directory holding .rego files (searched recursively) is one policy with its tests. Exit 1 on a failed test or a policy that does not load' \
'eval:Evaluate a policy'\''s decision for one input, as igd would decide a call (offline). A deny is an answer\: the exit code is 0' \
'draft:Drafts in igd'\''s policy store\: a policy module and its *_test.rego modules, compiled and tested by igd before they are stored' \
'dry-run:Replay a candidate policy (a draft id or policy files) over the decisions recorded in a window (default\: the last 24 hours), on their recorded inputs\: how many calls it would allow, block and escalate, the transition matrix from what was decided then, and sample calls whose verdict changes. A progress bar on a terminal' \
'diff:Compare two policies (draft ids or files)\: the source diff, then B replayed against A on the same recorded inputs' \
'promote:Make a draft the active policy, on every replica within a second. igd compiles it and runs its tests again first. A step-up action\: pass --totp' \
'rollback:Return to the policy that was active before the current one (repeat to go further back; before the first promotion, the policy file decides). A step-up action' \
'active:Show what decides now (store, file or embedded default), its revision and the store'\''s recent changes; --clear deactivates the store'\''s policy (the file decides again)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl policy commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__active_commands] )) ||
_igctl__subcmd__policy__subcmd__active_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy active commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__check_commands] )) ||
_igctl__subcmd__policy__subcmd__check_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy check commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__diff_commands] )) ||
_igctl__subcmd__policy__subcmd__diff_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy diff commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__draft_commands] )) ||
_igctl__subcmd__policy__subcmd__draft_commands() {
    local commands; commands=(
'create:Store a draft\: one policy module and its *_test.rego files (or a directory of them)' \
'list:List drafts' \
'show:Show a draft with its sources' \
'delete:Delete a draft (what is active, and what a rollback returns to, keep their own copy)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl policy draft commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__draft__subcmd__create_commands] )) ||
_igctl__subcmd__policy__subcmd__draft__subcmd__create_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy draft create commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__draft__subcmd__delete_commands] )) ||
_igctl__subcmd__policy__subcmd__draft__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy draft delete commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__draft__subcmd__help_commands] )) ||
_igctl__subcmd__policy__subcmd__draft__subcmd__help_commands() {
    local commands; commands=(
'create:Store a draft\: one policy module and its *_test.rego files (or a directory of them)' \
'list:List drafts' \
'show:Show a draft with its sources' \
'delete:Delete a draft (what is active, and what a rollback returns to, keep their own copy)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl policy draft help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__draft__subcmd__help__subcmd__create_commands] )) ||
_igctl__subcmd__policy__subcmd__draft__subcmd__help__subcmd__create_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy draft help create commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__draft__subcmd__help__subcmd__delete_commands] )) ||
_igctl__subcmd__policy__subcmd__draft__subcmd__help__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy draft help delete commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__draft__subcmd__help__subcmd__help_commands] )) ||
_igctl__subcmd__policy__subcmd__draft__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy draft help help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__draft__subcmd__help__subcmd__list_commands] )) ||
_igctl__subcmd__policy__subcmd__draft__subcmd__help__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy draft help list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__draft__subcmd__help__subcmd__show_commands] )) ||
_igctl__subcmd__policy__subcmd__draft__subcmd__help__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy draft help show commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__draft__subcmd__list_commands] )) ||
_igctl__subcmd__policy__subcmd__draft__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy draft list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__draft__subcmd__show_commands] )) ||
_igctl__subcmd__policy__subcmd__draft__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy draft show commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__dry-run_commands] )) ||
_igctl__subcmd__policy__subcmd__dry-run_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy dry-run commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__eval_commands] )) ||
_igctl__subcmd__policy__subcmd__eval_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy eval commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__help_commands] )) ||
_igctl__subcmd__policy__subcmd__help_commands() {
    local commands; commands=(
'check:Parse and compile policies and their tests, and check the entrypoint (\`decision\` in package \`intentgate.policy\`), the size limits and the safety rules (no network, clock or randomness builtins). Offline. Each directory holding .rego files (searched recursively) is one policy; the files named are one more. Problems are printed as FILE\:LINE\:COLUMN\: MESSAGE; exit 1 if there is any' \
'test:Run the policies'\'' tests, like \`opa test\`\: every rule named test_* (in *_test.rego files and in the policy) evaluated as data.PACKAGE.RULE passes when it is true; todo_test_* rules are skipped. Offline. Each directory holding .rego files (searched recursively) is one policy with its tests. Exit 1 on a failed test or a policy that does not load' \
'eval:Evaluate a policy'\''s decision for one input, as igd would decide a call (offline). A deny is an answer\: the exit code is 0' \
'draft:Drafts in igd'\''s policy store\: a policy module and its *_test.rego modules, compiled and tested by igd before they are stored' \
'dry-run:Replay a candidate policy (a draft id or policy files) over the decisions recorded in a window (default\: the last 24 hours), on their recorded inputs\: how many calls it would allow, block and escalate, the transition matrix from what was decided then, and sample calls whose verdict changes. A progress bar on a terminal' \
'diff:Compare two policies (draft ids or files)\: the source diff, then B replayed against A on the same recorded inputs' \
'promote:Make a draft the active policy, on every replica within a second. igd compiles it and runs its tests again first. A step-up action\: pass --totp' \
'rollback:Return to the policy that was active before the current one (repeat to go further back; before the first promotion, the policy file decides). A step-up action' \
'active:Show what decides now (store, file or embedded default), its revision and the store'\''s recent changes; --clear deactivates the store'\''s policy (the file decides again)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl policy help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__help__subcmd__active_commands] )) ||
_igctl__subcmd__policy__subcmd__help__subcmd__active_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy help active commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__help__subcmd__check_commands] )) ||
_igctl__subcmd__policy__subcmd__help__subcmd__check_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy help check commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__help__subcmd__diff_commands] )) ||
_igctl__subcmd__policy__subcmd__help__subcmd__diff_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy help diff commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__help__subcmd__draft_commands] )) ||
_igctl__subcmd__policy__subcmd__help__subcmd__draft_commands() {
    local commands; commands=(
'create:Store a draft\: one policy module and its *_test.rego files (or a directory of them)' \
'list:List drafts' \
'show:Show a draft with its sources' \
'delete:Delete a draft (what is active, and what a rollback returns to, keep their own copy)' \
    )
    _describe -t commands 'igctl policy help draft commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__help__subcmd__draft__subcmd__create_commands] )) ||
_igctl__subcmd__policy__subcmd__help__subcmd__draft__subcmd__create_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy help draft create commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__help__subcmd__draft__subcmd__delete_commands] )) ||
_igctl__subcmd__policy__subcmd__help__subcmd__draft__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy help draft delete commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__help__subcmd__draft__subcmd__list_commands] )) ||
_igctl__subcmd__policy__subcmd__help__subcmd__draft__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy help draft list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__help__subcmd__draft__subcmd__show_commands] )) ||
_igctl__subcmd__policy__subcmd__help__subcmd__draft__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy help draft show commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__help__subcmd__dry-run_commands] )) ||
_igctl__subcmd__policy__subcmd__help__subcmd__dry-run_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy help dry-run commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__help__subcmd__eval_commands] )) ||
_igctl__subcmd__policy__subcmd__help__subcmd__eval_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy help eval commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__help__subcmd__help_commands] )) ||
_igctl__subcmd__policy__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy help help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__help__subcmd__promote_commands] )) ||
_igctl__subcmd__policy__subcmd__help__subcmd__promote_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy help promote commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__help__subcmd__rollback_commands] )) ||
_igctl__subcmd__policy__subcmd__help__subcmd__rollback_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy help rollback commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__help__subcmd__test_commands] )) ||
_igctl__subcmd__policy__subcmd__help__subcmd__test_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy help test commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__promote_commands] )) ||
_igctl__subcmd__policy__subcmd__promote_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy promote commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__rollback_commands] )) ||
_igctl__subcmd__policy__subcmd__rollback_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy rollback commands' commands "$@"
}
(( $+functions[_igctl__subcmd__policy__subcmd__test_commands] )) ||
_igctl__subcmd__policy__subcmd__test_commands() {
    local commands; commands=()
    _describe -t commands 'igctl policy test commands' commands "$@"
}
(( $+functions[_igctl__subcmd__revocations_commands] )) ||
_igctl__subcmd__revocations_commands() {
    local commands; commands=()
    _describe -t commands 'igctl revocations commands' commands "$@"
}
(( $+functions[_igctl__subcmd__revoke_commands] )) ||
_igctl__subcmd__revoke_commands() {
    local commands; commands=()
    _describe -t commands 'igctl revoke commands' commands "$@"
}
(( $+functions[_igctl__subcmd__stop_commands] )) ||
_igctl__subcmd__stop_commands() {
    local commands; commands=()
    _describe -t commands 'igctl stop commands' commands "$@"
}
(( $+functions[_igctl__subcmd__tenants_commands] )) ||
_igctl__subcmd__tenants_commands() {
    local commands; commands=()
    _describe -t commands 'igctl tenants commands' commands "$@"
}
(( $+functions[_igctl__subcmd__token_commands] )) ||
_igctl__subcmd__token_commands() {
    local commands; commands=(
'inspect:Show a token'\''s claims and effective rights (never its tag; signature not checked)' \
'attenuate:Narrow a token offline by appending an attenuation block' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl token commands' commands "$@"
}
(( $+functions[_igctl__subcmd__token__subcmd__attenuate_commands] )) ||
_igctl__subcmd__token__subcmd__attenuate_commands() {
    local commands; commands=()
    _describe -t commands 'igctl token attenuate commands' commands "$@"
}
(( $+functions[_igctl__subcmd__token__subcmd__help_commands] )) ||
_igctl__subcmd__token__subcmd__help_commands() {
    local commands; commands=(
'inspect:Show a token'\''s claims and effective rights (never its tag; signature not checked)' \
'attenuate:Narrow a token offline by appending an attenuation block' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl token help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__token__subcmd__help__subcmd__attenuate_commands] )) ||
_igctl__subcmd__token__subcmd__help__subcmd__attenuate_commands() {
    local commands; commands=()
    _describe -t commands 'igctl token help attenuate commands' commands "$@"
}
(( $+functions[_igctl__subcmd__token__subcmd__help__subcmd__help_commands] )) ||
_igctl__subcmd__token__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'igctl token help help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__token__subcmd__help__subcmd__inspect_commands] )) ||
_igctl__subcmd__token__subcmd__help__subcmd__inspect_commands() {
    local commands; commands=()
    _describe -t commands 'igctl token help inspect commands' commands "$@"
}
(( $+functions[_igctl__subcmd__token__subcmd__inspect_commands] )) ||
_igctl__subcmd__token__subcmd__inspect_commands() {
    local commands; commands=()
    _describe -t commands 'igctl token inspect commands' commands "$@"
}
(( $+functions[_igctl__subcmd__tokens_commands] )) ||
_igctl__subcmd__tokens_commands() {
    local commands; commands=(
'list:List live root tokens' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl tokens commands' commands "$@"
}
(( $+functions[_igctl__subcmd__tokens__subcmd__help_commands] )) ||
_igctl__subcmd__tokens__subcmd__help_commands() {
    local commands; commands=(
'list:List live root tokens' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl tokens help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__tokens__subcmd__help__subcmd__help_commands] )) ||
_igctl__subcmd__tokens__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'igctl tokens help help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__tokens__subcmd__help__subcmd__list_commands] )) ||
_igctl__subcmd__tokens__subcmd__help__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl tokens help list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__tokens__subcmd__list_commands] )) ||
_igctl__subcmd__tokens__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'igctl tokens list commands' commands "$@"
}
(( $+functions[_igctl__subcmd__totp_commands] )) ||
_igctl__subcmd__totp_commands() {
    local commands; commands=(
'enroll:Enroll an authenticator app for your identity\: prints the otpauth\:// URI and the secret (and a QR code on a terminal). On a terminal igctl then asks for the first code and prints ten one-time recovery codes, once; in a script, confirm with \`totp confirm\`. Re-enrolling replaces a confirmed enrollment and needs --totp with its current code' \
'confirm:Confirm a pending enrollment with the first code from the app; prints the ten one-time recovery codes, once' \
'disable:Disable TOTP\: your own (with your code), or with --identity another'\''s (admin, step-up)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl totp commands' commands "$@"
}
(( $+functions[_igctl__subcmd__totp__subcmd__confirm_commands] )) ||
_igctl__subcmd__totp__subcmd__confirm_commands() {
    local commands; commands=()
    _describe -t commands 'igctl totp confirm commands' commands "$@"
}
(( $+functions[_igctl__subcmd__totp__subcmd__disable_commands] )) ||
_igctl__subcmd__totp__subcmd__disable_commands() {
    local commands; commands=()
    _describe -t commands 'igctl totp disable commands' commands "$@"
}
(( $+functions[_igctl__subcmd__totp__subcmd__enroll_commands] )) ||
_igctl__subcmd__totp__subcmd__enroll_commands() {
    local commands; commands=()
    _describe -t commands 'igctl totp enroll commands' commands "$@"
}
(( $+functions[_igctl__subcmd__totp__subcmd__help_commands] )) ||
_igctl__subcmd__totp__subcmd__help_commands() {
    local commands; commands=(
'enroll:Enroll an authenticator app for your identity\: prints the otpauth\:// URI and the secret (and a QR code on a terminal). On a terminal igctl then asks for the first code and prints ten one-time recovery codes, once; in a script, confirm with \`totp confirm\`. Re-enrolling replaces a confirmed enrollment and needs --totp with its current code' \
'confirm:Confirm a pending enrollment with the first code from the app; prints the ten one-time recovery codes, once' \
'disable:Disable TOTP\: your own (with your code), or with --identity another'\''s (admin, step-up)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'igctl totp help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__totp__subcmd__help__subcmd__confirm_commands] )) ||
_igctl__subcmd__totp__subcmd__help__subcmd__confirm_commands() {
    local commands; commands=()
    _describe -t commands 'igctl totp help confirm commands' commands "$@"
}
(( $+functions[_igctl__subcmd__totp__subcmd__help__subcmd__disable_commands] )) ||
_igctl__subcmd__totp__subcmd__help__subcmd__disable_commands() {
    local commands; commands=()
    _describe -t commands 'igctl totp help disable commands' commands "$@"
}
(( $+functions[_igctl__subcmd__totp__subcmd__help__subcmd__enroll_commands] )) ||
_igctl__subcmd__totp__subcmd__help__subcmd__enroll_commands() {
    local commands; commands=()
    _describe -t commands 'igctl totp help enroll commands' commands "$@"
}
(( $+functions[_igctl__subcmd__totp__subcmd__help__subcmd__help_commands] )) ||
_igctl__subcmd__totp__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'igctl totp help help commands' commands "$@"
}
(( $+functions[_igctl__subcmd__unstop_commands] )) ||
_igctl__subcmd__unstop_commands() {
    local commands; commands=()
    _describe -t commands 'igctl unstop commands' commands "$@"
}
(( $+functions[_igctl__subcmd__whoami_commands] )) ||
_igctl__subcmd__whoami_commands() {
    local commands; commands=()
    _describe -t commands 'igctl whoami commands' commands "$@"
}

if [ "$funcstack[1]" = "_igctl" ]; then
    _igctl "$@"
else
    compdef _igctl igctl
fi

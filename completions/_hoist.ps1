
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'hoist' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'hoist'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'hoist' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Allow plain HTTP and unverified TLS for this registry (repeatable)')
            [CompletionResult]::new('--certs-dir', '--certs-dir', [CompletionResultType]::ParameterName, 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log every HTTP request (method, URL, status, time; never credentials) to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Log in to a registry and store the credentials the way the Docker CLI does')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Remove a registry''s stored credentials')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Upload an image from the local store, an OCI layout or an image tarball')
            [CompletionResult]::new('tag', 'tag', [CompletionResultType]::ParameterValue, 'Add tags to an image already in a registry, without moving any blob')
            [CompletionResult]::new('tags', 'tags', [CompletionResultType]::ParameterValue, 'List a repository''s tags, one a line')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'Download an image into the local store, an OCI layout or a docker-archive')
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Copy an image from one registry repository to another, blob by blob, never through the disk')
            [CompletionResult]::new('cp', 'cp', [CompletionResultType]::ParameterValue, 'Copy an image from one registry repository to another, blob by blob, never through the disk')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Show an image (digest, platforms, config, layers), or its manifest or config as stored')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hoist;login' {
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Username')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Username')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Password or token (insecure: visible to other processes; prefer --password-stdin)')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Password or token (insecure: visible to other processes; prefer --password-stdin)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Allow plain HTTP and unverified TLS for this registry (repeatable)')
            [CompletionResult]::new('--certs-dir', '--certs-dir', [CompletionResultType]::ParameterName, 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the password or token from standard input')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log every HTTP request (method, URL, status, time; never credentials) to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'hoist;logout' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Allow plain HTTP and unverified TLS for this registry (repeatable)')
            [CompletionResult]::new('--certs-dir', '--certs-dir', [CompletionResultType]::ParameterName, 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log every HTTP request (method, URL, status, time; never credentials) to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'hoist;push' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Source: OCI layout dir[:NAME], OCI or docker-archive tar, or a reference in the store')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Local store directory (default: $HOIST_STORE, $XDG_DATA_HOME/hoist, ~/.local/share/hoist)')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Most blobs to upload at once [default: auto, up to 32]')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Most blobs to upload at once [default: auto, up to 32]')
            [CompletionResult]::new('--chunk-size', '--chunk-size', [CompletionResultType]::ParameterName, 'Upload in chunks of this many bytes instead of one request per blob')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Also tag the image TAG in the same repository (repeatable): one upload, one PUT per tag')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Also tag the image TAG in the same repository (repeatable): one upload, one PUT per tag')
            [CompletionResult]::new('--digest-file', '--digest-file', [CompletionResultType]::ParameterName, 'Also write the manifest digest to this file')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Allow plain HTTP and unverified TLS for this registry (repeatable)')
            [CompletionResult]::new('--certs-dir', '--certs-dir', [CompletionResultType]::ParameterName, 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON summary (digest, media type, every blob and how it moved) instead of the digest')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log every HTTP request (method, URL, status, time; never credentials) to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'hoist;tag' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Allow plain HTTP and unverified TLS for this registry (repeatable)')
            [CompletionResult]::new('--certs-dir', '--certs-dir', [CompletionResultType]::ParameterName, 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log every HTTP request (method, URL, status, time; never credentials) to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'hoist;tags' {
            [CompletionResult]::new('--page-size', '--page-size', [CompletionResultType]::ParameterName, 'Tags to ask for per page (the registry''s own default otherwise)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Allow plain HTTP and unverified TLS for this registry (repeatable)')
            [CompletionResult]::new('--certs-dir', '--certs-dir', [CompletionResultType]::ParameterName, 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON object ({"name": ..., "tags": [...]}) instead of lines')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log every HTTP request (method, URL, status, time; never credentials) to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'hoist;completions' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Allow plain HTTP and unverified TLS for this registry (repeatable)')
            [CompletionResult]::new('--certs-dir', '--certs-dir', [CompletionResultType]::ParameterName, 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log every HTTP request (method, URL, status, time; never credentials) to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'hoist;pull' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Local store directory (default: $HOIST_STORE, $XDG_DATA_HOME/hoist, ~/.local/share/hoist)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write here instead of the store: a directory (OCI layout) or a .tar (docker-archive)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write here instead of the store: a directory (OCI layout) or a .tar (docker-archive)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Format of --output when its name does not say: oci (a directory) or docker-archive')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Most blobs to download at once [default: auto, up to 32]')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Most blobs to download at once [default: auto, up to 32]')
            [CompletionResult]::new('--digest-file', '--digest-file', [CompletionResultType]::ParameterName, 'Also write the manifest digest to this file')
            [CompletionResult]::new('--mirror', '--mirror', [CompletionResultType]::ParameterName, 'Pull REGISTRY''s images through MIRROR first (repeatable, tried in order; replaces registries.conf''s mirrors for REGISTRY)')
            [CompletionResult]::new('--foreign-layers', '--foreign-layers', [CompletionResultType]::ParameterName, 'Foreign (Windows) layers: skip them, keeping their descriptors, or fetch them from their URLs (HTTPS only, no credentials)')
            [CompletionResult]::new('--platform', '--platform', [CompletionResultType]::ParameterName, 'Platform to pick from a multi-platform image: os/arch[/variant], or "all"')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Allow plain HTTP and unverified TLS for this registry (repeatable)')
            [CompletionResult]::new('--certs-dir', '--certs-dir', [CompletionResultType]::ParameterName, 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON summary (digest, media type, every blob and how it moved) instead of the digest')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log every HTTP request (method, URL, status, time; never credentials) to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'hoist;copy' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Also tag the copy TAG in the destination repository (repeatable)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Also tag the copy TAG in the destination repository (repeatable)')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Most blobs to copy at once [default: auto, up to 32]')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Most blobs to copy at once [default: auto, up to 32]')
            [CompletionResult]::new('--chunk-size', '--chunk-size', [CompletionResultType]::ParameterName, 'Upload in chunks of this many bytes instead of one request per blob')
            [CompletionResult]::new('--digest-file', '--digest-file', [CompletionResultType]::ParameterName, 'Also write the manifest digest to this file')
            [CompletionResult]::new('--platform', '--platform', [CompletionResultType]::ParameterName, 'Copy only this platform''s image of an index (its digest differs from the index''s)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Allow plain HTTP and unverified TLS for this registry (repeatable)')
            [CompletionResult]::new('--certs-dir', '--certs-dir', [CompletionResultType]::ParameterName, 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d')
            [CompletionResult]::new('--referrers', '--referrers', [CompletionResultType]::ParameterName, 'Also copy what refers to the image: signatures, SBOMs, attestations')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON summary (digest, media type, every blob and how it moved) instead of the digest')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log every HTTP request (method, URL, status, time; never credentials) to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'hoist;cp' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Also tag the copy TAG in the destination repository (repeatable)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Also tag the copy TAG in the destination repository (repeatable)')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Most blobs to copy at once [default: auto, up to 32]')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Most blobs to copy at once [default: auto, up to 32]')
            [CompletionResult]::new('--chunk-size', '--chunk-size', [CompletionResultType]::ParameterName, 'Upload in chunks of this many bytes instead of one request per blob')
            [CompletionResult]::new('--digest-file', '--digest-file', [CompletionResultType]::ParameterName, 'Also write the manifest digest to this file')
            [CompletionResult]::new('--platform', '--platform', [CompletionResultType]::ParameterName, 'Copy only this platform''s image of an index (its digest differs from the index''s)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Allow plain HTTP and unverified TLS for this registry (repeatable)')
            [CompletionResult]::new('--certs-dir', '--certs-dir', [CompletionResultType]::ParameterName, 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d')
            [CompletionResult]::new('--referrers', '--referrers', [CompletionResultType]::ParameterName, 'Also copy what refers to the image: signatures, SBOMs, attestations')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON summary (digest, media type, every blob and how it moved) instead of the digest')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log every HTTP request (method, URL, status, time; never credentials) to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'hoist;inspect' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'text, digest, raw (the manifest''s bytes), config (the config''s bytes) or json')
            [CompletionResult]::new('--platform', '--platform', [CompletionResultType]::ParameterName, 'Show this platform''s image of an index: os/arch[/variant]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Allow plain HTTP and unverified TLS for this registry (repeatable)')
            [CompletionResult]::new('--certs-dir', '--certs-dir', [CompletionResultType]::ParameterName, 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d')
            [CompletionResult]::new('--raw', '--raw', [CompletionResultType]::ParameterName, 'The manifest (or index) bytes exactly as stored: --format raw')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON object instead of text: --format json')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress or status; only the result (see Output)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log every HTTP request (method, URL, status, time; never credentials) to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'hoist;help' {
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Log in to a registry and store the credentials the way the Docker CLI does')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Remove a registry''s stored credentials')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Upload an image from the local store, an OCI layout or an image tarball')
            [CompletionResult]::new('tag', 'tag', [CompletionResultType]::ParameterValue, 'Add tags to an image already in a registry, without moving any blob')
            [CompletionResult]::new('tags', 'tags', [CompletionResultType]::ParameterValue, 'List a repository''s tags, one a line')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'Download an image into the local store, an OCI layout or a docker-archive')
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Copy an image from one registry repository to another, blob by blob, never through the disk')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Show an image (digest, platforms, config, layers), or its manifest or config as stored')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hoist;help;login' {
            break
        }
        'hoist;help;logout' {
            break
        }
        'hoist;help;push' {
            break
        }
        'hoist;help;tag' {
            break
        }
        'hoist;help;tags' {
            break
        }
        'hoist;help;completions' {
            break
        }
        'hoist;help;pull' {
            break
        }
        'hoist;help;copy' {
            break
        }
        'hoist;help;inspect' {
            break
        }
        'hoist;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}


use builtin;
use str;

set edit:completion:arg-completer[hoist] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'hoist'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'hoist'= {
            cand --config 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)'
            cand --insecure 'Allow plain HTTP and unverified TLS for this registry (repeatable)'
            cand --certs-dir 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d'
            cand -q 'No progress or status; only the result (see Output)'
            cand --quiet 'No progress or status; only the result (see Output)'
            cand --debug 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand login 'Log in to a registry and store the credentials the way the Docker CLI does'
            cand logout 'Remove a registry''s stored credentials'
            cand push 'Upload an image from the local store, an OCI layout or an image tarball'
            cand tag 'Add tags to an image already in a registry, without moving any blob'
            cand tags 'List a repository''s tags, one a line'
            cand completions 'Print a shell completion script'
            cand pull 'Download an image into the local store, an OCI layout or a docker-archive'
            cand copy 'Copy an image from one registry repository to another, blob by blob, never through the disk'
            cand cp 'Copy an image from one registry repository to another, blob by blob, never through the disk'
            cand inspect 'Show an image (digest, platforms, config, layers), or its manifest or config as stored'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hoist;login'= {
            cand -u 'Username'
            cand --username 'Username'
            cand -p 'Password or token (insecure: visible to other processes; prefer --password-stdin)'
            cand --password 'Password or token (insecure: visible to other processes; prefer --password-stdin)'
            cand --config 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)'
            cand --insecure 'Allow plain HTTP and unverified TLS for this registry (repeatable)'
            cand --certs-dir 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d'
            cand --password-stdin 'Read the password or token from standard input'
            cand -q 'No progress or status; only the result (see Output)'
            cand --quiet 'No progress or status; only the result (see Output)'
            cand --debug 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'hoist;logout'= {
            cand --config 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)'
            cand --insecure 'Allow plain HTTP and unverified TLS for this registry (repeatable)'
            cand --certs-dir 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d'
            cand -q 'No progress or status; only the result (see Output)'
            cand --quiet 'No progress or status; only the result (see Output)'
            cand --debug 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'hoist;push'= {
            cand --from 'Source: OCI layout dir[:NAME], OCI or docker-archive tar, or a reference in the store'
            cand --store 'Local store directory (default: $HOIST_STORE, $XDG_DATA_HOME/hoist, ~/.local/share/hoist)'
            cand -j 'Most blobs to upload at once [default: auto, up to 32]'
            cand --jobs 'Most blobs to upload at once [default: auto, up to 32]'
            cand --chunk-size 'Upload in chunks of this many bytes instead of one request per blob'
            cand -t 'Also tag the image TAG in the same repository (repeatable): one upload, one PUT per tag'
            cand --tag 'Also tag the image TAG in the same repository (repeatable): one upload, one PUT per tag'
            cand --digest-file 'Also write the manifest digest to this file'
            cand --config 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)'
            cand --insecure 'Allow plain HTTP and unverified TLS for this registry (repeatable)'
            cand --certs-dir 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d'
            cand --json 'Print a JSON summary (digest, media type, every blob and how it moved) instead of the digest'
            cand -q 'No progress or status; only the result (see Output)'
            cand --quiet 'No progress or status; only the result (see Output)'
            cand --debug 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'hoist;tag'= {
            cand --config 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)'
            cand --insecure 'Allow plain HTTP and unverified TLS for this registry (repeatable)'
            cand --certs-dir 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d'
            cand -q 'No progress or status; only the result (see Output)'
            cand --quiet 'No progress or status; only the result (see Output)'
            cand --debug 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'hoist;tags'= {
            cand --page-size 'Tags to ask for per page (the registry''s own default otherwise)'
            cand --config 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)'
            cand --insecure 'Allow plain HTTP and unverified TLS for this registry (repeatable)'
            cand --certs-dir 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d'
            cand --json 'Print a JSON object ({"name": ..., "tags": [...]}) instead of lines'
            cand -q 'No progress or status; only the result (see Output)'
            cand --quiet 'No progress or status; only the result (see Output)'
            cand --debug 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'hoist;completions'= {
            cand --config 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)'
            cand --insecure 'Allow plain HTTP and unverified TLS for this registry (repeatable)'
            cand --certs-dir 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d'
            cand -q 'No progress or status; only the result (see Output)'
            cand --quiet 'No progress or status; only the result (see Output)'
            cand --debug 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'hoist;pull'= {
            cand --store 'Local store directory (default: $HOIST_STORE, $XDG_DATA_HOME/hoist, ~/.local/share/hoist)'
            cand -o 'Write here instead of the store: a directory (OCI layout) or a .tar (docker-archive)'
            cand --output 'Write here instead of the store: a directory (OCI layout) or a .tar (docker-archive)'
            cand --format 'Format of --output when its name does not say: oci (a directory) or docker-archive'
            cand -j 'Most blobs to download at once [default: auto, up to 32]'
            cand --jobs 'Most blobs to download at once [default: auto, up to 32]'
            cand --digest-file 'Also write the manifest digest to this file'
            cand --mirror 'Pull REGISTRY''s images through MIRROR first (repeatable, tried in order; replaces registries.conf''s mirrors for REGISTRY)'
            cand --foreign-layers 'Foreign (Windows) layers: skip them, keeping their descriptors, or fetch them from their URLs (HTTPS only, no credentials)'
            cand --platform 'Platform to pick from a multi-platform image: os/arch[/variant], or "all"'
            cand --config 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)'
            cand --insecure 'Allow plain HTTP and unverified TLS for this registry (repeatable)'
            cand --certs-dir 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d'
            cand --json 'Print a JSON summary (digest, media type, every blob and how it moved) instead of the digest'
            cand -q 'No progress or status; only the result (see Output)'
            cand --quiet 'No progress or status; only the result (see Output)'
            cand --debug 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'hoist;copy'= {
            cand -t 'Also tag the copy TAG in the destination repository (repeatable)'
            cand --tag 'Also tag the copy TAG in the destination repository (repeatable)'
            cand -j 'Most blobs to copy at once [default: auto, up to 32]'
            cand --jobs 'Most blobs to copy at once [default: auto, up to 32]'
            cand --chunk-size 'Upload in chunks of this many bytes instead of one request per blob'
            cand --digest-file 'Also write the manifest digest to this file'
            cand --platform 'Copy only this platform''s image of an index (its digest differs from the index''s)'
            cand --config 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)'
            cand --insecure 'Allow plain HTTP and unverified TLS for this registry (repeatable)'
            cand --certs-dir 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d'
            cand --referrers 'Also copy what refers to the image: signatures, SBOMs, attestations'
            cand --json 'Print a JSON summary (digest, media type, every blob and how it moved) instead of the digest'
            cand -q 'No progress or status; only the result (see Output)'
            cand --quiet 'No progress or status; only the result (see Output)'
            cand --debug 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'hoist;cp'= {
            cand -t 'Also tag the copy TAG in the destination repository (repeatable)'
            cand --tag 'Also tag the copy TAG in the destination repository (repeatable)'
            cand -j 'Most blobs to copy at once [default: auto, up to 32]'
            cand --jobs 'Most blobs to copy at once [default: auto, up to 32]'
            cand --chunk-size 'Upload in chunks of this many bytes instead of one request per blob'
            cand --digest-file 'Also write the manifest digest to this file'
            cand --platform 'Copy only this platform''s image of an index (its digest differs from the index''s)'
            cand --config 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)'
            cand --insecure 'Allow plain HTTP and unverified TLS for this registry (repeatable)'
            cand --certs-dir 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d'
            cand --referrers 'Also copy what refers to the image: signatures, SBOMs, attestations'
            cand --json 'Print a JSON summary (digest, media type, every blob and how it moved) instead of the digest'
            cand -q 'No progress or status; only the result (see Output)'
            cand --quiet 'No progress or status; only the result (see Output)'
            cand --debug 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'hoist;inspect'= {
            cand --format 'text, digest, raw (the manifest''s bytes), config (the config''s bytes) or json'
            cand --platform 'Show this platform''s image of an index: os/arch[/variant]'
            cand --config 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)'
            cand --insecure 'Allow plain HTTP and unverified TLS for this registry (repeatable)'
            cand --certs-dir 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d'
            cand --raw 'The manifest (or index) bytes exactly as stored: --format raw'
            cand --json 'One JSON object instead of text: --format json'
            cand -q 'No progress or status; only the result (see Output)'
            cand --quiet 'No progress or status; only the result (see Output)'
            cand --debug 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'hoist;help'= {
            cand login 'Log in to a registry and store the credentials the way the Docker CLI does'
            cand logout 'Remove a registry''s stored credentials'
            cand push 'Upload an image from the local store, an OCI layout or an image tarball'
            cand tag 'Add tags to an image already in a registry, without moving any blob'
            cand tags 'List a repository''s tags, one a line'
            cand completions 'Print a shell completion script'
            cand pull 'Download an image into the local store, an OCI layout or a docker-archive'
            cand copy 'Copy an image from one registry repository to another, blob by blob, never through the disk'
            cand inspect 'Show an image (digest, platforms, config, layers), or its manifest or config as stored'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hoist;help;login'= {
        }
        &'hoist;help;logout'= {
        }
        &'hoist;help;push'= {
        }
        &'hoist;help;tag'= {
        }
        &'hoist;help;tags'= {
        }
        &'hoist;help;completions'= {
        }
        &'hoist;help;pull'= {
        }
        &'hoist;help;copy'= {
        }
        &'hoist;help;inspect'= {
        }
        &'hoist;help;help'= {
        }
    ]
    $completions[$command]
}

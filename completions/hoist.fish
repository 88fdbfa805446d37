# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_hoist_global_optspecs
    string join \n config= q/quiet debug insecure= certs-dir= h/help V/version
end

function __fish_hoist_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_hoist_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_hoist_using_subcommand
    set -l cmd (__fish_hoist_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c hoist -n "__fish_hoist_needs_command" -l config -d 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_needs_command" -l insecure -d 'Allow plain HTTP and unverified TLS for this registry (repeatable)' -r -f -a "(__fish_print_hostnames)"
complete -c hoist -n "__fish_hoist_needs_command" -l certs-dir -d 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_needs_command" -s q -l quiet -d 'No progress or status; only the result (see Output)'
complete -c hoist -n "__fish_hoist_needs_command" -l debug -d 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
complete -c hoist -n "__fish_hoist_needs_command" -s h -l help -d 'Print help'
complete -c hoist -n "__fish_hoist_needs_command" -s V -l version -d 'Print version'
complete -c hoist -n "__fish_hoist_needs_command" -f -a "login" -d 'Log in to a registry and store the credentials the way the Docker CLI does'
complete -c hoist -n "__fish_hoist_needs_command" -f -a "logout" -d 'Remove a registry\'s stored credentials'
complete -c hoist -n "__fish_hoist_needs_command" -f -a "push" -d 'Upload an image from the local store, an OCI layout or an image tarball'
complete -c hoist -n "__fish_hoist_needs_command" -f -a "tag" -d 'Add tags to an image already in a registry, without moving any blob'
complete -c hoist -n "__fish_hoist_needs_command" -f -a "tags" -d 'List a repository\'s tags, one a line'
complete -c hoist -n "__fish_hoist_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c hoist -n "__fish_hoist_needs_command" -f -a "pull" -d 'Download an image into the local store, an OCI layout or a docker-archive'
complete -c hoist -n "__fish_hoist_needs_command" -f -a "copy" -d 'Copy an image from one registry repository to another, blob by blob, never through the disk'
complete -c hoist -n "__fish_hoist_needs_command" -f -a "cp" -d 'Copy an image from one registry repository to another, blob by blob, never through the disk'
complete -c hoist -n "__fish_hoist_needs_command" -f -a "inspect" -d 'Show an image (digest, platforms, config, layers), or its manifest or config as stored'
complete -c hoist -n "__fish_hoist_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hoist -n "__fish_hoist_using_subcommand login" -s u -l username -d 'Username' -r
complete -c hoist -n "__fish_hoist_using_subcommand login" -s p -l password -d 'Password or token (insecure: visible to other processes; prefer --password-stdin)' -r
complete -c hoist -n "__fish_hoist_using_subcommand login" -l config -d 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand login" -l insecure -d 'Allow plain HTTP and unverified TLS for this registry (repeatable)' -r -f -a "(__fish_print_hostnames)"
complete -c hoist -n "__fish_hoist_using_subcommand login" -l certs-dir -d 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand login" -l password-stdin -d 'Read the password or token from standard input'
complete -c hoist -n "__fish_hoist_using_subcommand login" -s q -l quiet -d 'No progress or status; only the result (see Output)'
complete -c hoist -n "__fish_hoist_using_subcommand login" -l debug -d 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
complete -c hoist -n "__fish_hoist_using_subcommand login" -s h -l help -d 'Print help'
complete -c hoist -n "__fish_hoist_using_subcommand logout" -l config -d 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand logout" -l insecure -d 'Allow plain HTTP and unverified TLS for this registry (repeatable)' -r -f -a "(__fish_print_hostnames)"
complete -c hoist -n "__fish_hoist_using_subcommand logout" -l certs-dir -d 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand logout" -s q -l quiet -d 'No progress or status; only the result (see Output)'
complete -c hoist -n "__fish_hoist_using_subcommand logout" -l debug -d 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
complete -c hoist -n "__fish_hoist_using_subcommand logout" -s h -l help -d 'Print help'
complete -c hoist -n "__fish_hoist_using_subcommand push" -l from -d 'Source: OCI layout dir[:NAME], OCI or docker-archive tar, or a reference in the store' -r -F
complete -c hoist -n "__fish_hoist_using_subcommand push" -l store -d 'Local store directory (default: $HOIST_STORE, $XDG_DATA_HOME/hoist, ~/.local/share/hoist)' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand push" -s j -l jobs -d 'Most blobs to upload at once [default: auto, up to 32]' -r
complete -c hoist -n "__fish_hoist_using_subcommand push" -l chunk-size -d 'Upload in chunks of this many bytes instead of one request per blob' -r
complete -c hoist -n "__fish_hoist_using_subcommand push" -s t -l tag -d 'Also tag the image TAG in the same repository (repeatable): one upload, one PUT per tag' -r
complete -c hoist -n "__fish_hoist_using_subcommand push" -l digest-file -d 'Also write the manifest digest to this file' -r -F
complete -c hoist -n "__fish_hoist_using_subcommand push" -l config -d 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand push" -l insecure -d 'Allow plain HTTP and unverified TLS for this registry (repeatable)' -r -f -a "(__fish_print_hostnames)"
complete -c hoist -n "__fish_hoist_using_subcommand push" -l certs-dir -d 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand push" -l json -d 'Print a JSON summary (digest, media type, every blob and how it moved) instead of the digest'
complete -c hoist -n "__fish_hoist_using_subcommand push" -s q -l quiet -d 'No progress or status; only the result (see Output)'
complete -c hoist -n "__fish_hoist_using_subcommand push" -l debug -d 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
complete -c hoist -n "__fish_hoist_using_subcommand push" -s h -l help -d 'Print help'
complete -c hoist -n "__fish_hoist_using_subcommand tag" -l config -d 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand tag" -l insecure -d 'Allow plain HTTP and unverified TLS for this registry (repeatable)' -r -f -a "(__fish_print_hostnames)"
complete -c hoist -n "__fish_hoist_using_subcommand tag" -l certs-dir -d 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand tag" -s q -l quiet -d 'No progress or status; only the result (see Output)'
complete -c hoist -n "__fish_hoist_using_subcommand tag" -l debug -d 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
complete -c hoist -n "__fish_hoist_using_subcommand tag" -s h -l help -d 'Print help'
complete -c hoist -n "__fish_hoist_using_subcommand tags" -l page-size -d 'Tags to ask for per page (the registry\'s own default otherwise)' -r
complete -c hoist -n "__fish_hoist_using_subcommand tags" -l config -d 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand tags" -l insecure -d 'Allow plain HTTP and unverified TLS for this registry (repeatable)' -r -f -a "(__fish_print_hostnames)"
complete -c hoist -n "__fish_hoist_using_subcommand tags" -l certs-dir -d 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand tags" -l json -d 'Print a JSON object ({"name": ..., "tags": [...]}) instead of lines'
complete -c hoist -n "__fish_hoist_using_subcommand tags" -s q -l quiet -d 'No progress or status; only the result (see Output)'
complete -c hoist -n "__fish_hoist_using_subcommand tags" -l debug -d 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
complete -c hoist -n "__fish_hoist_using_subcommand tags" -s h -l help -d 'Print help'
complete -c hoist -n "__fish_hoist_using_subcommand completions" -l config -d 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand completions" -l insecure -d 'Allow plain HTTP and unverified TLS for this registry (repeatable)' -r -f -a "(__fish_print_hostnames)"
complete -c hoist -n "__fish_hoist_using_subcommand completions" -l certs-dir -d 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand completions" -s q -l quiet -d 'No progress or status; only the result (see Output)'
complete -c hoist -n "__fish_hoist_using_subcommand completions" -l debug -d 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
complete -c hoist -n "__fish_hoist_using_subcommand completions" -s h -l help -d 'Print help'
complete -c hoist -n "__fish_hoist_using_subcommand pull" -l store -d 'Local store directory (default: $HOIST_STORE, $XDG_DATA_HOME/hoist, ~/.local/share/hoist)' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand pull" -s o -l output -d 'Write here instead of the store: a directory (OCI layout) or a .tar (docker-archive)' -r -F
complete -c hoist -n "__fish_hoist_using_subcommand pull" -l format -d 'Format of --output when its name does not say: oci (a directory) or docker-archive' -r -f -a "oci\t'An OCI image layout directory'
docker-archive\t'A tarball for `docker load` and `skopeo copy docker-archive:`'"
complete -c hoist -n "__fish_hoist_using_subcommand pull" -s j -l jobs -d 'Most blobs to download at once [default: auto, up to 32]' -r
complete -c hoist -n "__fish_hoist_using_subcommand pull" -l digest-file -d 'Also write the manifest digest to this file' -r -F
complete -c hoist -n "__fish_hoist_using_subcommand pull" -l mirror -d 'Pull REGISTRY\'s images through MIRROR first (repeatable, tried in order; replaces registries.conf\'s mirrors for REGISTRY)' -r
complete -c hoist -n "__fish_hoist_using_subcommand pull" -l foreign-layers -d 'Foreign (Windows) layers: skip them, keeping their descriptors, or fetch them from their URLs (HTTPS only, no credentials)' -r -f -a "skip\t'Keep the descriptor, leave the bytes at their URLs'
fetch\t'Download from the descriptor\'s URLs'"
complete -c hoist -n "__fish_hoist_using_subcommand pull" -l platform -d 'Platform to pick from a multi-platform image: os/arch[/variant], or "all"' -r -f -a "all\t''
linux/amd64\t''
linux/arm64\t''
linux/arm/v7\t''
linux/arm/v6\t''
linux/386\t''
linux/ppc64le\t''
linux/s390x\t''
linux/riscv64\t''
windows/amd64\t''"
complete -c hoist -n "__fish_hoist_using_subcommand pull" -l config -d 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand pull" -l insecure -d 'Allow plain HTTP and unverified TLS for this registry (repeatable)' -r -f -a "(__fish_print_hostnames)"
complete -c hoist -n "__fish_hoist_using_subcommand pull" -l certs-dir -d 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand pull" -l json -d 'Print a JSON summary (digest, media type, every blob and how it moved) instead of the digest'
complete -c hoist -n "__fish_hoist_using_subcommand pull" -s q -l quiet -d 'No progress or status; only the result (see Output)'
complete -c hoist -n "__fish_hoist_using_subcommand pull" -l debug -d 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
complete -c hoist -n "__fish_hoist_using_subcommand pull" -s h -l help -d 'Print help'
complete -c hoist -n "__fish_hoist_using_subcommand copy" -s t -l tag -d 'Also tag the copy TAG in the destination repository (repeatable)' -r
complete -c hoist -n "__fish_hoist_using_subcommand copy" -s j -l jobs -d 'Most blobs to copy at once [default: auto, up to 32]' -r
complete -c hoist -n "__fish_hoist_using_subcommand copy" -l chunk-size -d 'Upload in chunks of this many bytes instead of one request per blob' -r
complete -c hoist -n "__fish_hoist_using_subcommand copy" -l digest-file -d 'Also write the manifest digest to this file' -r -F
complete -c hoist -n "__fish_hoist_using_subcommand copy" -l platform -d 'Copy only this platform\'s image of an index (its digest differs from the index\'s)' -r -f -a "linux/amd64\t''
linux/arm64\t''
linux/arm/v7\t''
linux/arm/v6\t''
linux/386\t''
linux/ppc64le\t''
linux/s390x\t''
linux/riscv64\t''
windows/amd64\t''"
complete -c hoist -n "__fish_hoist_using_subcommand copy" -l config -d 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand copy" -l insecure -d 'Allow plain HTTP and unverified TLS for this registry (repeatable)' -r -f -a "(__fish_print_hostnames)"
complete -c hoist -n "__fish_hoist_using_subcommand copy" -l certs-dir -d 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand copy" -l referrers -d 'Also copy what refers to the image: signatures, SBOMs, attestations'
complete -c hoist -n "__fish_hoist_using_subcommand copy" -l json -d 'Print a JSON summary (digest, media type, every blob and how it moved) instead of the digest'
complete -c hoist -n "__fish_hoist_using_subcommand copy" -s q -l quiet -d 'No progress or status; only the result (see Output)'
complete -c hoist -n "__fish_hoist_using_subcommand copy" -l debug -d 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
complete -c hoist -n "__fish_hoist_using_subcommand copy" -s h -l help -d 'Print help'
complete -c hoist -n "__fish_hoist_using_subcommand cp" -s t -l tag -d 'Also tag the copy TAG in the destination repository (repeatable)' -r
complete -c hoist -n "__fish_hoist_using_subcommand cp" -s j -l jobs -d 'Most blobs to copy at once [default: auto, up to 32]' -r
complete -c hoist -n "__fish_hoist_using_subcommand cp" -l chunk-size -d 'Upload in chunks of this many bytes instead of one request per blob' -r
complete -c hoist -n "__fish_hoist_using_subcommand cp" -l digest-file -d 'Also write the manifest digest to this file' -r -F
complete -c hoist -n "__fish_hoist_using_subcommand cp" -l platform -d 'Copy only this platform\'s image of an index (its digest differs from the index\'s)' -r -f -a "linux/amd64\t''
linux/arm64\t''
linux/arm/v7\t''
linux/arm/v6\t''
linux/386\t''
linux/ppc64le\t''
linux/s390x\t''
linux/riscv64\t''
windows/amd64\t''"
complete -c hoist -n "__fish_hoist_using_subcommand cp" -l config -d 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand cp" -l insecure -d 'Allow plain HTTP and unverified TLS for this registry (repeatable)' -r -f -a "(__fish_print_hostnames)"
complete -c hoist -n "__fish_hoist_using_subcommand cp" -l certs-dir -d 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand cp" -l referrers -d 'Also copy what refers to the image: signatures, SBOMs, attestations'
complete -c hoist -n "__fish_hoist_using_subcommand cp" -l json -d 'Print a JSON summary (digest, media type, every blob and how it moved) instead of the digest'
complete -c hoist -n "__fish_hoist_using_subcommand cp" -s q -l quiet -d 'No progress or status; only the result (see Output)'
complete -c hoist -n "__fish_hoist_using_subcommand cp" -l debug -d 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
complete -c hoist -n "__fish_hoist_using_subcommand cp" -s h -l help -d 'Print help'
complete -c hoist -n "__fish_hoist_using_subcommand inspect" -l format -d 'text, digest, raw (the manifest\'s bytes), config (the config\'s bytes) or json' -r -f -a "text\t'For a person: digest, media type, platforms or config and layers'
digest\t'The manifest digest alone'
raw\t'The manifest (or index) bytes exactly as stored'
config\t'The image config blob exactly as stored'
json\t'One JSON object'"
complete -c hoist -n "__fish_hoist_using_subcommand inspect" -l platform -d 'Show this platform\'s image of an index: os/arch[/variant]' -r -f -a "linux/amd64\t''
linux/arm64\t''
linux/arm/v7\t''
linux/arm/v6\t''
linux/386\t''
linux/ppc64le\t''
linux/s390x\t''
linux/riscv64\t''
windows/amd64\t''"
complete -c hoist -n "__fish_hoist_using_subcommand inspect" -l config -d 'Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand inspect" -l insecure -d 'Allow plain HTTP and unverified TLS for this registry (repeatable)' -r -f -a "(__fish_print_hostnames)"
complete -c hoist -n "__fish_hoist_using_subcommand inspect" -l certs-dir -d 'Extra directory of per-registry certificates, laid out like /etc/docker/certs.d' -r -f -a "(__fish_complete_directories)"
complete -c hoist -n "__fish_hoist_using_subcommand inspect" -l raw -d 'The manifest (or index) bytes exactly as stored: --format raw'
complete -c hoist -n "__fish_hoist_using_subcommand inspect" -l json -d 'One JSON object instead of text: --format json'
complete -c hoist -n "__fish_hoist_using_subcommand inspect" -s q -l quiet -d 'No progress or status; only the result (see Output)'
complete -c hoist -n "__fish_hoist_using_subcommand inspect" -l debug -d 'Log every HTTP request (method, URL, status, time; never credentials) to stderr'
complete -c hoist -n "__fish_hoist_using_subcommand inspect" -s h -l help -d 'Print help'
complete -c hoist -n "__fish_hoist_using_subcommand help; and not __fish_seen_subcommand_from login logout push tag tags completions pull copy inspect help" -f -a "login" -d 'Log in to a registry and store the credentials the way the Docker CLI does'
complete -c hoist -n "__fish_hoist_using_subcommand help; and not __fish_seen_subcommand_from login logout push tag tags completions pull copy inspect help" -f -a "logout" -d 'Remove a registry\'s stored credentials'
complete -c hoist -n "__fish_hoist_using_subcommand help; and not __fish_seen_subcommand_from login logout push tag tags completions pull copy inspect help" -f -a "push" -d 'Upload an image from the local store, an OCI layout or an image tarball'
complete -c hoist -n "__fish_hoist_using_subcommand help; and not __fish_seen_subcommand_from login logout push tag tags completions pull copy inspect help" -f -a "tag" -d 'Add tags to an image already in a registry, without moving any blob'
complete -c hoist -n "__fish_hoist_using_subcommand help; and not __fish_seen_subcommand_from login logout push tag tags completions pull copy inspect help" -f -a "tags" -d 'List a repository\'s tags, one a line'
complete -c hoist -n "__fish_hoist_using_subcommand help; and not __fish_seen_subcommand_from login logout push tag tags completions pull copy inspect help" -f -a "completions" -d 'Print a shell completion script'
complete -c hoist -n "__fish_hoist_using_subcommand help; and not __fish_seen_subcommand_from login logout push tag tags completions pull copy inspect help" -f -a "pull" -d 'Download an image into the local store, an OCI layout or a docker-archive'
complete -c hoist -n "__fish_hoist_using_subcommand help; and not __fish_seen_subcommand_from login logout push tag tags completions pull copy inspect help" -f -a "copy" -d 'Copy an image from one registry repository to another, blob by blob, never through the disk'
complete -c hoist -n "__fish_hoist_using_subcommand help; and not __fish_seen_subcommand_from login logout push tag tags completions pull copy inspect help" -f -a "inspect" -d 'Show an image (digest, platforms, config, layers), or its manifest or config as stored'
complete -c hoist -n "__fish_hoist_using_subcommand help; and not __fish_seen_subcommand_from login logout push tag tags completions pull copy inspect help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

# SERVER (login, logout): the registries in config.json, asked of hoist when Tab is pressed.
function __fish_hoist_servers
    set -l words (commandline -opc)
    set -l config
    if set -l i (contains -i -- --config $words)
        set config --config $words[(math $i + 1)]
    end
    hoist $config __complete-servers 2>/dev/null
end
complete -c hoist -n "__fish_hoist_using_subcommand login" -f -a "(__fish_hoist_servers)"
complete -c hoist -n "__fish_hoist_using_subcommand logout" -f -a "(__fish_hoist_servers)"

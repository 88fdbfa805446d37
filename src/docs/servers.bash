
# SERVER (login, logout): the registries in config.json, asked of hoist when Tab is pressed.
_hoist_servers() {
    local i config=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            --config) config=(--config "${COMP_WORDS[i + 1]}") ;;
        esac
    done
    hoist "${config[@]}" __complete-servers 2>/dev/null
}

_hoist_with_servers() {
    local cur="${COMP_WORDS[COMP_CWORD]}" word command="" given=0 skip=0 i
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${COMP_WORDS[i]}"
        if ((skip)); then
            # bash splits --config=DIR at the "=": the value is the word after it.
            [[ "$word" == "=" ]] || skip=0
            continue
        fi
        case "$word" in
            -u | --username | -p | --password | --config | --insecure | --certs-dir) skip=1 ;;
            -*) ;;
            *) if [[ -z "$command" ]]; then command="$word"; else given=$((given + 1)); fi ;;
        esac
    done
    if [[ ("$command" == login || "$command" == logout) && "$cur" != -* ]] && ((!skip && !given)); then
        COMPREPLY=($(compgen -W "$(_hoist_servers)" -- "$cur"))
        return 0
    fi
    _hoist "$@"
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _hoist_with_servers -o nosort -o bashdefault -o default hoist
else
    complete -F _hoist_with_servers -o bashdefault -o default hoist
fi

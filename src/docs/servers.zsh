# SERVER (login, logout): the registries in config.json, asked of hoist when Tab is pressed.
(( $+functions[_hoist_servers] )) ||
_hoist_servers() {
    local -a config servers
    local i=${words[(I)--config]}
    (( i )) && config=(--config "${words[i+1]}")
    servers=(${(f)"$(hoist "${config[@]}" __complete-servers 2>/dev/null)"})
    _wanted servers expl 'registry' compadd -a servers
}


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

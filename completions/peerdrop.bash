# bash completion for peerdrop(1): its commands, its options, and files.
# Installed as share/bash-completion/completions/peerdrop, which
# bash-completion loads the first time `peerdrop <TAB>` is pressed; it also
# works sourced on its own (`source peerdrop.bash`): it needs nothing of
# bash-completion. Keep the options in step with usage() in src/cli/main.c
# (tests/integration/completions.test.mjs compares them with --help).

_peerdrop()
{
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=${COMP_WORDS[COMP_CWORD - 1]}
    local common="--server --relay --name --lanes --json -q --quiet --log-level -h --help"
    COMPREPLY=()

    if ((COMP_CWORD == 1)); then
        mapfile -t COMPREPLY < <(compgen -W "send receive recv -h --help --version" -- "$cur")
        return
    fi

    # an option's value
    case $prev in
    --server | --count | --password | --name)
        return # a URL, a number, a secret, a name: nothing to offer
        ;;
    --lanes)
        mapfile -t COMPREPLY < <(compgen -W "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15" -- "$cur")
        return
        ;;
    --text)
        mapfile -t COMPREPLY < <(compgen -W "-" -- "$cur") # - : standard input
        return
        ;;
    -o | --output)
        compopt -o filenames 2>/dev/null # not outside a completion (tests)
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        return
        ;;
    --log-level)
        mapfile -t COMPREPLY < <(compgen -W "debug info warn error" -- "$cur")
        return
        ;;
    esac

    case ${COMP_WORDS[1]} in
    send)
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "--count --code --text $common" -- "$cur")
        else # files and folders to send
            compopt -o filenames 2>/dev/null # not outside a completion (tests)
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        fi
        ;;
    receive | recv)
        # the argument is a link, a short code or a room id: nothing to complete
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "--password -o --output -y --yes --force \
                --allow-dotfiles $common" -- "$cur")
        fi
        ;;
    esac
}
complete -F _peerdrop peerdrop

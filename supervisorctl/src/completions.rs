//! Shell completion scripts: options, then the action, then process and group names asked of
//! the running daemon (`supervisorctl [its -c/-s/-u/-p] _names`), so `restart web<Tab>` works.
//! The hidden actions `_actions` and `_names` are what the scripts call.

/// Options that take a value: the scripts pass them on to `_names`, so the names come from
/// the daemon the command line talks to.
const VALUED: &str =
    "-c --configuration -s --serverurl -u --username -p -P --password -r --history-file --cafile";
const SWITCHES: &str = "-i --interactive --json -h --help -V --version";

const BASH: &str = r#"# bash completion for supervisorctl (supervisorctl completions bash)
_supervisorctl() {
    # The words as typed: bash's own split (COMP_WORDS) also breaks at ':' and '=', which every
    # unix:// URL and group:name has.
    local line=${COMP_LINE:0:COMP_POINT} cur prev i w action=0
    local -a words pass=()
    read -ra words <<< "$line"
    [[ $line == *[[:space:]] ]] && words+=("")
    cur=${words[${#words[@]}-1]}
    prev=${words[${#words[@]}-2]}
    case " @VALUED@ " in *" $prev "*)
        COMPREPLY=($(compgen -f -- "$cur")); return;;
    esac
    for ((i = 1; i < ${#words[@]} - 1; i++)); do
        w=${words[i]}
        case " @VALUED@ " in
            *" $w "*) pass+=("$w" "${words[i+1]}"); ((i++)); continue;;
        esac
        case $w in
            --*=*) pass+=("$w");;
            -*) ;;
            *) action=$i; break;;
        esac
    done
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "@VALUED@ @SWITCHES@" -- "$cur"))
    elif ((action == 0)); then
        COMPREPLY=($(compgen -W "$(supervisorctl _actions 2>/dev/null)" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$(supervisorctl "${pass[@]}" _names 2>/dev/null)" -- "$cur"))
    fi
    # bash replaces only what follows the word's last ':' or '=': offer that part.
    local head=${cur%"${cur##*[:=]}"}
    if [[ -n $head ]]; then
        COMPREPLY=("${COMPREPLY[@]#"$head"}")
    fi
}
complete -F _supervisorctl supervisorctl
"#;

const ZSH: &str = r#"#compdef supervisorctl
# zsh completion for supervisorctl (supervisorctl completions zsh)
_supervisorctl() {
    local -a pass valued
    valued=(@VALUED@)
    local i=2 action=0
    while (( i < CURRENT )); do
        if (( ${valued[(Ie)${words[i]}]} )); then
            pass+=(${words[i]} ${words[i+1]}); (( i += 2 )); continue
        fi
        [[ ${words[i]} == -* ]] || { action=$i; break; }
        (( i++ ))
    done
    if (( ${valued[(Ie)${words[CURRENT-1]}]} )); then
        _files
    elif [[ ${words[CURRENT]} == -* ]]; then
        compadd -- @VALUED@ @SWITCHES@
    elif (( action == 0 )); then
        compadd -- ${(f)"$(supervisorctl _actions 2>/dev/null)"}
    else
        compadd -- ${(f)"$(supervisorctl $pass _names 2>/dev/null)"}
    fi
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _supervisorctl "$@"
else
    compdef _supervisorctl supervisorctl
fi
"#;

const FISH: &str = r#"# fish completion for supervisorctl (supervisorctl completions fish)
function __supervisorctl_pass
    set -l words (commandline -opc)
    set -l valued @VALUED@
    set -l out
    set -l i 2
    while test $i -le (count $words)
        if contains -- $words[$i] $valued
            set -a out $words[$i] $words[(math $i + 1)]
            set i (math $i + 2)
            continue
        end
        set i (math $i + 1)
    end
    printf '%s\n' $out
end
function __supervisorctl_has_action
    set -l words (commandline -opc)
    set -l valued @VALUED@
    set -l i 2
    while test $i -le (count $words)
        if contains -- $words[$i] $valued
            set i (math $i + 2)
            continue
        end
        string match -q -- '-*' $words[$i]; or return 0
        set i (math $i + 1)
    end
    return 1
end
complete -c supervisorctl -f
complete -c supervisorctl -n 'not __supervisorctl_has_action' -a '(supervisorctl _actions 2>/dev/null)'
complete -c supervisorctl -n '__supervisorctl_has_action' -a '(supervisorctl (__supervisorctl_pass) _names 2>/dev/null)'
complete -c supervisorctl -s c -l configuration -r -F -d 'config file'
complete -c supervisorctl -s s -l serverurl -r -d 'server URL'
complete -c supervisorctl -s u -l username -r -d 'user name'
complete -c supervisorctl -s p -l password -r -d 'password'
complete -c supervisorctl -s r -l history-file -r -F -d 'history file'
complete -c supervisorctl -l cafile -r -F -d 'CA certificates for https://'
complete -c supervisorctl -s i -l interactive -d 'shell after the action'
complete -c supervisorctl -l json -d 'JSON output'
"#;

/// The script for `shell`, or None for a shell we have no script of our own for.
pub(crate) fn script(shell: &str) -> Option<String> {
    let s = match shell {
        "bash" => BASH,
        "zsh" => ZSH,
        "fish" => FISH,
        _ => return None,
    };
    Some(
        s.replace("@VALUED@", VALUED)
            .replace("@SWITCHES@", SWITCHES),
    )
}

function __swift-sockmap_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __swift-sockmap_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __swift-sockmap_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __swift-sockmap_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __swift-sockmap_parse_tokens -S
    set -l unparsed_tokens (__swift-sockmap_tokens -pc)
    switch $unparsed_tokens[1]
    case 'swift-sockmap'
        __swift-sockmap_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'load'
            __swift-sockmap_parse_subcommand 1 'cgroup=' 'map=' 'max-entries=' 'policy-mode=' 'policy=+' 'replace' 'set=+' 'btf=' 'local-prefix=+' 'no-discover-local' 'pin-dir=' 'v/verbose' 'version' 'h/help'
        case 'detach'
            __swift-sockmap_parse_subcommand 0 'force' 'pin-dir=' 'v/verbose' 'version' 'h/help'
        case 'status'
            __swift-sockmap_parse_subcommand 0 'json' 'watch' 'pin-dir=' 'v/verbose' 'version' 'h/help'
        case 'dump-map'
            __swift-sockmap_parse_subcommand 0 'json' 'pin-dir=' 'v/verbose' 'version' 'h/help'
        case 'run'
            __swift-sockmap_parse_subcommand -r 1 'cgroup=' 'pin-dir=' 'v/verbose' 'version' 'h/help'
        case 'stats'
            __swift-sockmap_parse_subcommand 0 'interval=' 'count=' 'json' 'pin-dir=' 'v/verbose' 'version' 'h/help'
        case 'policy'
            __swift-sockmap_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'list'
                __swift-sockmap_parse_subcommand 0 'json' 'pin-dir=' 'v/verbose' 'version' 'h/help'
            case 'add'
                __swift-sockmap_parse_subcommand -r 1 'pin-dir=' 'v/verbose' 'version' 'h/help'
            case 'remove'
                __swift-sockmap_parse_subcommand -r 1 'pin-dir=' 'v/verbose' 'version' 'h/help'
            case 'mode'
                __swift-sockmap_parse_subcommand 1 'pin-dir=' 'v/verbose' 'version' 'h/help'
            end
        case 'pause'
            __swift-sockmap_parse_subcommand 0 'pin-dir=' 'v/verbose' 'version' 'h/help'
        case 'resume'
            __swift-sockmap_parse_subcommand 0 'pin-dir=' 'v/verbose' 'version' 'h/help'
        case 'trace'
            __swift-sockmap_parse_subcommand 0 'duration=' 'count=' 'prefix=' 'version' 'h/help'
        case 'probe'
            __swift-sockmap_parse_subcommand 0 'json' 'version' 'h/help'
        case 'agent'
            __swift-sockmap_parse_subcommand 0 'listen=' 'allow-external' 'detach-on-exit' 'log-format=' 'object=' 'cgroup=' 'max-entries=' 'policy-mode=' 'policy=+' 'local-prefix=+' 'no-discover-local' 'pin-dir=' 'v/verbose' 'version' 'h/help'
        case 'help'
            __swift-sockmap_parse_subcommand -r 1 'version'
        end
    end
end

function __swift-sockmap_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __swift-sockmap_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __swift-sockmap_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __swift-sockmap_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__swift-sockmap_tokens -p)
    if test -z "$(__swift-sockmap_tokens -t)"
        set -l index (count (__swift-sockmap_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'swift-sockmap' -f
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap" version' -l 'version' -d 'Show the version.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_positional "swift-sockmap" -eq 1' -fa 'load' -d 'Load the BPF object, pin it and attach it to a cgroup.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_positional "swift-sockmap" -eq 1' -fa 'detach' -d 'Detach both programs, remove the pins and the cgroup load created (if empty).'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_positional "swift-sockmap" -eq 1' -fa 'status' -d 'Show what is loaded where (cgroup, program and map ids, entries) and the counters.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_positional "swift-sockmap" -eq 1' -fa 'dump-map' -d 'List every socket in the SOCKHASH: both endpoints, network namespace and socket cookie.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_positional "swift-sockmap" -eq 1' -fa 'run' -d 'Run a command inside the accelerated cgroup.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_positional "swift-sockmap" -eq 1' -fa 'stats' -d 'Watch the counters live: redirected messages and bytes per second, misses, insert failures, entries.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_positional "swift-sockmap" -eq 1' -fa 'policy' -d 'Show or change which connections are accelerated (allow/deny list of ports and addresses).'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_positional "swift-sockmap" -eq 1' -fa 'pause' -d 'Stop redirecting at once (every send takes the TCP path, in order); programs stay loaded.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_positional "swift-sockmap" -eq 1' -fa 'resume' -d 'Resume redirecting, for connections made from now on.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_positional "swift-sockmap" -eq 1' -fa 'trace' -d 'Print the trace lines of programs loaded with `--set debug=1`.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_positional "swift-sockmap" -eq 1' -fa 'probe' -d 'Show which BPF features this kernel has and what the accelerator does about each missing one.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_positional "swift-sockmap" -eq 1' -fa 'agent' -d 'Keep the accelerator loaded and serve Prometheus metrics, /healthz and /readyz over HTTP.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_positional "swift-sockmap" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap load" cgroup' -l 'cgroup' -d 'cgroup v2 directory to accelerate: absolute, or relative to the cgroup2 mount. Default: <mount>/swift-sockmap.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap load" map' -l 'map' -d 'The SOCKHASH or SOCKMAP to attach the verdict program to, when the object\'s verdict program references none or several.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap load" max-entries' -l 'max-entries' -d 'Capacity of the SOCKHASH (sockets, two per connection; the sockets\' state gets twice as much). Extra sockets stay on plain TCP.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap load" policy-mode' -l 'policy-mode' -d 'Policy mode: \'deny\' (the default) accelerates everything but listed ports/addresses; \'allow\' only listed ones.' -rfka 'deny allow'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap load"' -l 'policy' -d 'A port or address for the allow/deny list, in place before the first connection (repeatable).' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap load" replace' -l 'replace' -d 'If already loaded, swap in this object\'s programs without dropping tracked connections (maps are kept).'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap load"' -l 'set' -d 'Set a .rodata/.data variable of the object before loading, NAME=INTEGER (repeatable), e.g. debug=1 for `swift-sockmap trace`.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap load" btf' -l 'btf' -d 'BTF file to resolve the object\'s CO-RE relocations against, instead of the running kernel\'s /sys/kernel/btf/vmlinux.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap load"' -l 'local-prefix' -d 'A prefix whose addresses are on this host (CIDR: 10.88.0.0/16, fd00::/64), for the SYNs\' pairing tokens, besides loopback, the addresses of every network namespace found and the subnets of container bridges (repeatable). List only this host\'s addresses: a token sent elsewhere leaves the host.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap load" no-discover-local' -l 'no-discover-local' -d 'Write pairing tokens only toward loopback, each socket\'s own address and --local-prefix, without looking for the host\'s namespaces and bridges.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap load" pin-dir' -l 'pin-dir' -d 'Directory in bpffs holding the pins.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap load" v verbose' -l 'verbose' -s 'v' -d 'Log each step to standard error.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap load" version' -l 'version' -d 'Show the version.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap load" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap detach" force' -l 'force' -d 'Free the map even if sockets are still open (their unread redirected data is lost).'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap detach" pin-dir' -l 'pin-dir' -d 'Directory in bpffs holding the pins.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap detach" v verbose' -l 'verbose' -s 'v' -d 'Log each step to standard error.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap detach" version' -l 'version' -d 'Show the version.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap detach" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap status" json' -l 'json' -d 'Print JSON instead of text.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap status" watch' -l 'watch' -d 'Keep watching the counters (the same as `swift-sockmap stats`).'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap status" pin-dir' -l 'pin-dir' -d 'Directory in bpffs holding the pins.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap status" v verbose' -l 'verbose' -s 'v' -d 'Log each step to standard error.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap status" version' -l 'version' -d 'Show the version.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap dump-map" json' -l 'json' -d 'Print JSON instead of text.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap dump-map" pin-dir' -l 'pin-dir' -d 'Directory in bpffs holding the pins.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap dump-map" v verbose' -l 'verbose' -s 'v' -d 'Log each step to standard error.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap dump-map" version' -l 'version' -d 'Show the version.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap dump-map" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap run" cgroup' -l 'cgroup' -d 'cgroup to run in; default: the one the loaded accelerator uses.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap run" pin-dir' -l 'pin-dir' -d 'Directory in bpffs holding the pins.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap run" v verbose' -l 'verbose' -s 'v' -d 'Log each step to standard error.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap run" version' -l 'version' -d 'Show the version.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap run" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap stats" interval' -l 'interval' -d 'Seconds between lines.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap stats" count' -l 'count' -d 'Stop after this many lines.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap stats" json' -l 'json' -d 'Print one JSON object per line.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap stats" pin-dir' -l 'pin-dir' -d 'Directory in bpffs holding the pins.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap stats" v verbose' -l 'verbose' -s 'v' -d 'Log each step to standard error.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap stats" version' -l 'version' -d 'Show the version.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap stats" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap policy" version' -l 'version' -d 'Show the version.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap policy" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_positional "swift-sockmap policy" -eq 1' -fa 'list' -d 'List the mode and the entries.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_positional "swift-sockmap policy" -eq 1' -fa 'add' -d 'Add ports or addresses (e.g. 5432 10.0.0.7 ::1).'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_positional "swift-sockmap policy" -eq 1' -fa 'remove' -d 'Remove ports or addresses.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_positional "swift-sockmap policy" -eq 1' -fa 'mode' -d 'Set the mode: deny (accelerate all but listed) or allow (only listed).'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap policy list" json' -l 'json' -d 'Print JSON instead of text.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap policy list" pin-dir' -l 'pin-dir' -d 'Directory in bpffs holding the pins.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap policy list" v verbose' -l 'verbose' -s 'v' -d 'Log each step to standard error.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap policy list" version' -l 'version' -d 'Show the version.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap policy list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap policy add" pin-dir' -l 'pin-dir' -d 'Directory in bpffs holding the pins.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap policy add" v verbose' -l 'verbose' -s 'v' -d 'Log each step to standard error.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap policy add" version' -l 'version' -d 'Show the version.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap policy add" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap policy remove" pin-dir' -l 'pin-dir' -d 'Directory in bpffs holding the pins.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap policy remove" v verbose' -l 'verbose' -s 'v' -d 'Log each step to standard error.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap policy remove" version' -l 'version' -d 'Show the version.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap policy remove" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_positional "swift-sockmap policy mode" -eq 1' -fka 'deny allow'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap policy mode" pin-dir' -l 'pin-dir' -d 'Directory in bpffs holding the pins.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap policy mode" v verbose' -l 'verbose' -s 'v' -d 'Log each step to standard error.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap policy mode" version' -l 'version' -d 'Show the version.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap policy mode" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap pause" pin-dir' -l 'pin-dir' -d 'Directory in bpffs holding the pins.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap pause" v verbose' -l 'verbose' -s 'v' -d 'Log each step to standard error.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap pause" version' -l 'version' -d 'Show the version.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap pause" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap resume" pin-dir' -l 'pin-dir' -d 'Directory in bpffs holding the pins.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap resume" v verbose' -l 'verbose' -s 'v' -d 'Log each step to standard error.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap resume" version' -l 'version' -d 'Show the version.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap resume" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap trace" duration' -l 'duration' -d 'Stop after this many seconds.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap trace" count' -l 'count' -d 'Stop after printing this many lines.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap trace" prefix' -l 'prefix' -d 'Print only lines containing this text ("" prints every trace line).' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap trace" version' -l 'version' -d 'Show the version.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap trace" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap probe" json' -l 'json' -d 'Print JSON instead of text.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap probe" version' -l 'version' -d 'Show the version.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap probe" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap agent" listen' -l 'listen' -d 'Address to serve HTTP on: IP:PORT, [IPV6]:PORT.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap agent" allow-external' -l 'allow-external' -d 'Allow a --listen address other hosts can reach (anything but loopback).'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap agent" detach-on-exit' -l 'detach-on-exit' -d 'Detach the installation when stopped (by default it stays, and so does acceleration).'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap agent" log-format' -l 'log-format' -d 'Log format on standard error: text or json (one object per line).' -rfka 'text json'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap agent" object' -l 'object' -d 'A BPF object to load instead of the data path built into this binary.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap agent" cgroup' -l 'cgroup' -d 'cgroup v2 directory to accelerate: absolute, or relative to the cgroup2 mount. Default: <mount>/swift-sockmap.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap agent" max-entries' -l 'max-entries' -d 'Capacity of the SOCKHASH when the agent loads it (a running installation keeps its own).' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap agent" policy-mode' -l 'policy-mode' -d 'Policy mode: \'deny\' (the default) accelerates everything but listed ports/addresses; \'allow\' only listed ones.' -rfka 'deny allow'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap agent"' -l 'policy' -d 'A port or address for the allow/deny list, in place before the first connection (repeatable).' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap agent"' -l 'local-prefix' -d 'A prefix whose addresses are on this host (CIDR: 10.88.0.0/16, fd00::/64), for the SYNs\' pairing tokens, besides loopback, the addresses of every network namespace found and the subnets of container bridges (repeatable). List only this host\'s addresses: a token sent elsewhere leaves the host.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap agent" no-discover-local' -l 'no-discover-local' -d 'Write pairing tokens only toward loopback, each socket\'s own address and --local-prefix, without looking for the host\'s namespaces and bridges.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap agent" pin-dir' -l 'pin-dir' -d 'Directory in bpffs holding the pins.' -rfka ''
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap agent" v verbose' -l 'verbose' -s 'v' -d 'Log each step to standard error.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap agent" version' -l 'version' -d 'Show the version.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap agent" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'swift-sockmap' -n '__swift-sockmap_should_offer_completions_for_flags_or_options "swift-sockmap help" version' -l 'version' -d 'Show the version.'

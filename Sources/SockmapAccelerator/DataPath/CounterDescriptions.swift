/// What each data-path counter means, for readers that show the counters by name (the agent's
/// `/metrics` page): one table beside ``Counters``, so a counter added to `Slot` is described
/// here (the switch is exhaustive) and appears in every such reader without further changes.
extension Counters.Slot {
    /// The counter's name in snake case (`messages_redirected`), taken from the case name.
    package var snakeCaseName: String {
        var name = ""
        var previousWasUpper = true
        for character in String(describing: self) {
            if character.isUppercase {
                if !previousWasUpper { name += "_" }
                name += character.lowercased()
                previousWasUpper = true
            } else {
                name.append(character)
                previousWasUpper = false
            }
        }
        return name
    }

    /// One sentence saying what the counter counts (a Prometheus `# HELP` line).
    package var help: String {
        switch self {
        case .socketsInserted: "Sockets the sock_ops program added to the SOCKHASH."
        case .insertFailed: "Sockets the SOCKHASH refused (full, typically); they stay on plain TCP."
        case .messagesRedirected: "Sends the sk_msg program redirected to the peer socket."
        case .bytesRedirected: "Bytes of the sends redirected to the peer socket."
        case .redirectMissed: "Sends whose peer socket was not in the map (they went through TCP)."
        case .skippedByPolicy: "Connections kept on TCP because the allow/deny list matches one side's view of them."
        case .keptOnTCP: "Sends kept on TCP because an earlier send of their socket took it (redirecting could reorder bytes)."
        case .skippedNotLocal: "Connects toward a destination that cannot be on this host: their SYN carries no pairing token."
        case .skippedEarlyData: "Sockets not inserted because data crossed TCP before ESTABLISHED (TCP Fast Open)."
        case .skippedPaused: "Sockets not inserted because redirection was paused (or being detached)."
        case .backpressureToTCP: "Detours over TCP: sending sides whose peer held more unread redirected bytes than its limit."
        case .socketsReleased: "Sockets taken out of the map once on TCP with nothing redirected left unread."
        case .tokensOffered: "SYNs that carried a pairing token."
        case .socketsPaired: "Accepted sockets paired with their connecting socket by the token of its SYN."
        case .noToken: "Accepted sockets whose SYN carried no token (a peer outside the cgroup or on another host); both stay on TCP."
        case .tokenRejected: "Pairing tokens refused: unknown, already used, expired, or from a source that cannot be on this host."
        case .noOptionRoom: "SYNs or SYN-ACKs without room left for the pairing option; that connection stays on TCP."
        case .peerGone: "Tokens whose connecting socket had already left the fast path or the map."
        case .unanswered: "Connecting sockets whose SYN-ACK brought no answer to their token (a listener outside the cgroup, or one the kernel could not adopt); both stay on TCP."
        case .returnedToFastPath: "Detours that ended: the peer read every byte sent over TCP, so the sending side redirects again."
        case .bytesDetoured: "Bytes sent over TCP during detours."
        }
    }
}

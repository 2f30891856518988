import Dispatch
import NIOCore
import NIOHTTP1
import NIOPosix

/// An HTTP response: status, content type and body.
package struct HTTPReply: Sendable {
    package var status: HTTPResponseStatus
    package var contentType: String
    package var body: String

    package init(_ status: HTTPResponseStatus, _ body: String, contentType: String = "text/plain; charset=utf-8") {
        self.status = status
        self.body = body
        self.contentType = contentType
    }
}

/// A small HTTP/1.1 server on SwiftNIO: one event-loop thread; each request's answer is computed
/// on `queue` (the agent's serial queue, where every look at the installation runs, so a scrape
/// never sees a reload half done) and written back on the event loop.
package final class HTTPServer: Sendable {
    /// The address actually bound (its port is the kernel's choice when 0 was asked).
    package let address: ListenAddress
    private let group: MultiThreadedEventLoopGroup
    private let channel: Channel

    /// Binds `address` (SO_REUSEADDR, so a restart can bind while old connections linger in
    /// TIME_WAIT; a port another process listens on is still refused).
    package init(address: ListenAddress, queue: DispatchQueue,
                 route: @escaping @Sendable (_ method: HTTPMethod, _ path: String) -> HTTPReply) throws(AgentError) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(queue: queue, route: route))
                }
            }
        do {
            channel = try bootstrap.bind(host: address.host, port: address.port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw .listen(address, reason: Self.reason(error))
        }
        self.group = group
        self.address = ListenAddress(host: address.host, port: channel.localAddress?.port ?? address.port)
    }

    /// Stops accepting and closes the event loop.
    package func shutdown() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    /// "address already in use" rather than NIO's debug description.
    private static func reason(_ error: any Error) -> String {
        if let io = error as? IOError {
            return String(cString: strerror(io.errnoCode)).lowercased()
        }
        return "\(error)"
    }
}

/// Reads a request, answers it through `route` on the agent's queue.
private final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let queue: DispatchQueue
    private let route: @Sendable (HTTPMethod, String) -> HTTPReply
    private var head: HTTPRequestHead?

    init(queue: DispatchQueue, route: @escaping @Sendable (HTTPMethod, String) -> HTTPReply) {
        self.queue = queue
        self.route = route
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead): head = requestHead
        case .body: break
        case .end:
            guard let request = head else { return }
            head = nil
            let promise = context.eventLoop.makePromise(of: HTTPReply.self)
            let path = String(request.uri.split(separator: "?", maxSplits: 1).first ?? "")
            let route = self.route
            queue.async { promise.succeed(route(request.method, path)) }
            promise.futureResult.assumeIsolated().whenSuccess { reply in
                self.write(reply, for: request, context: context)
            }
        }
    }

    private func write(_ reply: HTTPReply, for request: HTTPRequestHead, context: ChannelHandlerContext) {
        let body = ByteBuffer(string: reply.body)
        var headers = HTTPHeaders([("Content-Type", reply.contentType), ("Content-Length", "\(body.readableBytes)")])
        if !request.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: reply.status, headers: headers))),
                      promise: nil)
        if request.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let done = context.writeAndFlushPromise()
        if !request.isKeepAlive {
            done.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}

private extension ChannelHandlerContext {
    func writeAndFlushPromise() -> EventLoopPromise<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: promise)
        return promise
    }
}

import NIOCore

/// A NIO event loop as a Swift task executor. A connection's tasks that prefer the loop of its channel run on the
/// thread that reads and writes the channel: bytes that arrive resume them without waking another thread, and their
/// writes go out inline instead of hopping back to the loop.
public final class EventLoopTaskExecutor: TaskExecutor {
    /// The loop the tasks run on.
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

namespace Rift.Nn;

/// <summary>
/// One persistent helper thread for two-way splits of large kernels. The caller runs one half while the
/// helper runs the other. If the helper has not picked the job up by the time the caller finishes its own
/// half (e.g. the machine is oversubscribed), the caller takes the job back and runs it itself, so a split is
/// never much slower than running single-threaded.
/// </summary>
internal static class Worker
{
    private const int Idle = 0, Posted = 1, Running = 2, Done = 3;
    private static readonly object Gate = new();
    private static readonly SemaphoreSlim Wake = new(0);
    private static Thread? _thread;
    private static Action? _job;
    private static int _state;
    private static volatile bool _sleeping;
    private static Exception? _error;

    internal static void Run2(Action mine, Action theirs)
    {
        if (!Monitor.TryEnter(Gate))
        {
            mine();
            theirs();
            return;
        }
        try
        {
            EnsureThread();
            _error = null;
            _job = theirs;
            Volatile.Write(ref _state, Posted);
            if (_sleeping) Wake.Release();
            mine();
            if (Interlocked.CompareExchange(ref _state, Idle, Posted) == Posted)
            {
                // Helper never started: do it here.
                _job = null;
                theirs();
                return;
            }
            var spin = new SpinWait();
            while (Volatile.Read(ref _state) != Done) spin.SpinOnce(sleep1Threshold: -1);
            Volatile.Write(ref _state, Idle);
            if (_error is not null) throw new AggregateException("matmul helper thread failed", _error);
        }
        finally
        {
            Monitor.Exit(Gate);
        }
    }

    private static void EnsureThread()
    {
        if (_thread is not null) return;
        _thread = new Thread(Loop) { IsBackground = true, Name = "Rift.Nn worker" };
        _thread.Start();
    }

    private static void Loop()
    {
        while (true)
        {
            // Spin briefly (back-to-back matmuls of one training step), then block.
            int spins = 0;
            while (Volatile.Read(ref _state) != Posted)
            {
                if (++spins < 2000)
                {
                    Thread.SpinWait(30);
                    continue;
                }
                _sleeping = true;
                if (Volatile.Read(ref _state) != Posted) Wake.Wait(20);
                _sleeping = false;
                spins = 0;
            }
            if (Interlocked.CompareExchange(ref _state, Running, Posted) != Posted) continue;
            var job = _job!;
            try
            {
                job();
            }
            catch (Exception e)
            {
                _error = e;
            }
            Volatile.Write(ref _state, Done);
        }
    }
}

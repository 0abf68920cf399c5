namespace Rift.Nn;

/// <summary>
/// One persistent helper thread for two-way splits of large kernels. The caller runs one half while the
/// helper runs the other; the helper spins briefly between jobs so back-to-back calls avoid wake-up latency.
/// </summary>
internal static class Worker
{
    private static readonly object Gate = new();
    private static Thread? _thread;
    private static Action? _job;
    private static volatile int _state; // 0 idle, 1 job posted, 2 job done
    private static Exception? _error;
    private static readonly SemaphoreSlim Wake = new(0);
    private static volatile bool _sleeping;

    internal static void Run2(Action mine, Action theirs)
    {
        // Nested or concurrent use from several callers: run serially rather than contend.
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
            _state = 1;
            if (_sleeping) Wake.Release();
            mine();
            var spin = new SpinWait();
            while (_state != 2) spin.SpinOnce(-1);
            _state = 0;
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
            long spins = 0;
            while (_state != 1)
            {
                if (++spins < 200_000)
                {
                    Thread.SpinWait(20);
                    continue;
                }
                _sleeping = true;
                if (_state != 1) Wake.Wait(50);
                _sleeping = false;
                spins = 0;
            }
            try
            {
                _job!();
            }
            catch (Exception e)
            {
                _error = e;
            }
            _job = null;
            _state = 2;
        }
    }
}

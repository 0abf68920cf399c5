using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Rift.Agent.Bridge;

namespace Rift.Agent.Operator;

/// <summary>
/// The operator console: a plain HTML/JS page (<c>/console</c>, embedded in the executable), a live feed of events and
/// status over Server-Sent Events (<c>/console/events</c>), and commands (<c>POST /console/api/estop|release|takeover</c>,
/// which need the header <c>X-Rift-Console: 1</c> so other sites' pages cannot post them).
/// </summary>
public static class OperatorEndpoints
{
    public const string CommandHeader = "X-Rift-Console";

    public static void Map(IEndpointRouteBuilder app, OperatorControl control, BridgeOptions options)
    {
        app.MapGet("/", (HttpContext ctx) => Results.Redirect("/console" + ctx.Request.QueryString));
        app.MapGet("/console", () => Results.Content(Page.Value, "text/html; charset=utf-8"));
        app.MapGet("/console/api/status", () => Results.Text(control.Status().ToJsonString(), "application/json"));
        app.MapPost("/console/api/estop", (HttpContext ctx) => Command(ctx, () => control.EStop("operator_console")));
        app.MapPost("/console/api/release", (HttpContext ctx) => Command(ctx, control.Release));
        app.MapPost("/console/api/takeover", (HttpContext ctx) =>
        {
            var on = ctx.Request.Query["on"].ToString();
            if (on is not ("true" or "false")) return Results.BadRequest("takeover needs ?on=true or ?on=false");
            return Command(ctx, () => control.SetTakeover(on == "true"));
        });
        app.MapGet("/console/events", (HttpContext ctx) => Events(ctx, control, options.StatusIntervalMs));
    }

    private static IResult Command(HttpContext ctx, Action act)
    {
        if (ctx.Request.Headers[CommandHeader].ToString() != "1")
            return Results.Text($"console commands need the header {CommandHeader}: 1\n", statusCode: StatusCodes.Status403Forbidden);
        act();
        return Results.Text("{\"ok\":true}", "application/json");
    }

    private static async Task Events(HttpContext ctx, OperatorControl control, int statusMs)
    {
        ctx.Response.Headers.ContentType = "text/event-stream";
        ctx.Response.Headers.CacheControl = "no-cache";
        ctx.Response.Headers["X-Accel-Buffering"] = "no";
        var (id, reader, history) = control.Subscribe();
        var ct = ctx.RequestAborted;
        try
        {
            foreach (var h in history) await Write(ctx, h, ct);
            await Write(ctx, control.Status().ToJsonString(), ct);
            await ctx.Response.Body.FlushAsync(ct);
            var nextStatus = Environment.TickCount64 + statusMs;
            while (!ct.IsCancellationRequested)
            {
                var wait = Math.Max(1, nextStatus - Environment.TickCount64);
                try
                {
                    await reader.WaitToReadAsync(ct).AsTask().WaitAsync(TimeSpan.FromMilliseconds(wait), ct);
                }
                catch (TimeoutException)
                {
                }
                var n = 0;
                while (n < 512 && reader.TryRead(out var msg))
                {
                    await Write(ctx, msg, ct);
                    n++;
                }
                if (Environment.TickCount64 >= nextStatus)
                {
                    await Write(ctx, control.Status().ToJsonString(), ct);
                    nextStatus = Environment.TickCount64 + statusMs;
                }
                await ctx.Response.Body.FlushAsync(ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
        finally
        {
            control.Unsubscribe(id);
        }
    }

    private static Task Write(HttpContext ctx, string json, CancellationToken ct) => ctx.Response.WriteAsync("data: " + json + "\n\n", ct);

    private static readonly Lazy<string> Page = new(() =>
    {
        var asm = Assembly.GetExecutingAssembly();
        using var s = asm.GetManifestResourceStream("Rift.Agent.Operator.console.html")
                      ?? throw new InvalidOperationException("console.html is not embedded in the executable");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    });
}

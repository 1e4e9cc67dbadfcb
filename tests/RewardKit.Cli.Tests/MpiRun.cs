using System.Diagnostics;
using System.Text;

namespace RewardKit.Cli.Tests;

/// <summary>A fact that launches <c>mpirun</c>; skipped with a visible reason when Open MPI is not installed.</summary>
public sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute()
    {
        if (MpiRun.Launcher is null)
            Skip = "mpirun is absent (apt-get install -y openmpi-bin libopenmpi-dev; .ci/run installs it): MPI test skipped.";
    }
}

/// <summary>A theory that launches <c>mpirun</c>; skipped with a visible reason when Open MPI is not installed.</summary>
public sealed class MpiTheoryAttribute : TheoryAttribute
{
    public MpiTheoryAttribute()
    {
        if (MpiRun.Launcher is null)
            Skip = "mpirun is absent (apt-get install -y openmpi-bin libopenmpi-dev; .ci/run installs it): MPI test skipped.";
    }
}

/// <summary>The result of one launch: exit code and both streams (terminal escapes removed).</summary>
public sealed record LaunchResult(int ExitCode, string Stdout, string Stderr)
{
    public string All => Stdout + "\n" + Stderr;
}

/// <summary>
/// Runs the rewardkit CLI (RewardKit.Cli.dll beside the tests) as one process or as N ranks under
/// <c>mpirun --allow-run-as-root --oversubscribe</c> on loopback, with a hard time limit: a launch that outlives it is killed
/// with its whole process group and the test fails, so no MPI test can hang CI.
/// </summary>
public static class MpiRun
{
    /// <summary>/usr/bin/mpirun (or the first on PATH), null when absent.</summary>
    public static readonly string? Launcher = FindLauncher();

    /// <summary>The CLI assembly the tests launch.</summary>
    public static string Cli => Path.Combine(AppContext.BaseDirectory, "RewardKit.Cli.dll");

    /// <summary>The time limit of one launch.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    static string? FindLauncher()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':').Prepend("/usr/bin"))
        {
            var path = Path.Combine(dir, "mpirun");
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>Starts <c>mpirun -np ranks dotnet RewardKit.Cli.dll args</c> (ranks 0: the CLI alone, no launcher).</summary>
    public static Process Start(int ranks, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, StringBuilder? stdout = null, StringBuilder? stderr = null)
    {
        var info = new ProcessStartInfo(ranks == 0 ? "dotnet" : Launcher!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (ranks > 0)
        {
            foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "-np", ranks.ToString() }) info.ArgumentList.Add(a);
            foreach (var name in (environment?.Keys ?? []).Append("TERM")) { info.ArgumentList.Add("-x"); info.ArgumentList.Add(name); }
            info.ArgumentList.Add("dotnet");
        }
        info.ArgumentList.Add(Cli);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["TERM"] = "dumb";   // no keypad escape codes from .NET's console under mpirun's pseudo-terminals
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (process) stdout?.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (process) stderr?.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>
    /// Runs one rank per entry of <paramref name="argsPerRank"/> (mpirun's MPMD form <c>-np 1 A : -np 1 B</c>), so one rank
    /// can be given other arguments than the rest.
    /// </summary>
    public static LaunchResult RunPerRank(IReadOnlyList<string[]> argsPerRank)
    {
        var info = new ProcessStartInfo(Launcher!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("--allow-run-as-root");
        info.ArgumentList.Add("--oversubscribe");
        for (int r = 0; r < argsPerRank.Count; r++)
        {
            if (r > 0) info.ArgumentList.Add(":");
            foreach (var a in new[] { "-np", "1", "-x", "TERM", "dotnet", Cli }.Concat(argsPerRank[r])) info.ArgumentList.Add(a);
        }
        info.Environment["TERM"] = "dumb";
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (process) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (process) stderr.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return Finish(process, stdout, stderr);
    }

    /// <summary>Runs to the end (or kills the launch after <see cref="Limit"/> and fails).</summary>
    public static LaunchResult Run(int ranks, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = Start(ranks, args, environment, stdout, stderr);
        return Finish(process, stdout, stderr);
    }

    /// <summary>Waits for <paramref name="process"/> (at most <see cref="Limit"/>) and returns what it printed.</summary>
    public static LaunchResult Finish(Process process, StringBuilder stdout, StringBuilder stderr)
    {
        if (!process.WaitForExit(Limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"the launch did not end within {Limit.TotalSeconds} s and was killed.\nstdout:\n{stdout}\nstderr:\n{stderr}");
        }
        process.WaitForExit();   // drains the output events
        lock (process) return new LaunchResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The process id of rank <paramref name="rank"/> among the descendants of <paramref name="launcher"/> (from /proc).</summary>
    public static int? RankPid(Process launcher, int rank)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var environ = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                if (!environ.Contains($"OMPI_COMM_WORLD_RANK={rank}") || !IsDescendant(pid, launcher.Id)) continue;
                return pid;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return null;
    }

    static bool IsDescendant(int pid, int ancestor)
    {
        for (int p = pid, depth = 0; p > 1 && depth < 16; depth++)
        {
            if (p == ancestor) return true;
            var stat = File.ReadAllText($"/proc/{p}/stat");
            p = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);   // field 4: the parent's pid
        }
        return false;
    }

    /// <summary>Sends <paramref name="signal"/> (e.g. "STOP", "KILL") to <paramref name="pid"/>.</summary>
    public static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString()]);
        kill.WaitForExit();
    }
}

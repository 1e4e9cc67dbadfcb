using System.Runtime.InteropServices;

namespace RewardKit.Testing;

/// <summary>Named pipes (FIFOs) for tests of inputs that can be read only once, as a shell's <c>&lt;(cmd)</c> or <c>/dev/stdin</c>.</summary>
public static partial class Fifo
{
    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MakeFifo(string path, uint mode);

    /// <summary>Creates a FIFO at <paramref name="path"/> (Unix only).</summary>
    public static void Make(string path)
    {
        if (MakeFifo(path, 0x1B6 /* 0666 */) != 0) throw new IOException($"mkfifo {path} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Writes <paramref name="bytes"/> into the FIFO once a reader opens it, then closes it (end of file for the reader).</summary>
    public static Task WriteAsync(string path, byte[] bytes) => Task.Run(() => File.WriteAllBytes(path, bytes));
}

using System.Runtime.InteropServices;

namespace RewardKit.Distributed;

/// <summary>
/// The dozen Open MPI entry points RewardKit calls, bound at run time from <c>libmpi.so.40</c> (Debian's
/// <c>libopenmpi3</c>, Open MPI 4.x). MPI.NET 1.4.0 is not used: its P/Invokes name <c>msmpi.dll</c> and bake in
/// MS-MPI's ABI, where handles are 32-bit integers (MPI_COMM_WORLD = 0x44000000); in Open MPI a handle is the address of
/// a global object (<c>&amp;ompi_mpi_comm_world</c>), so MPI.NET redirected to libmpi.so.40 crashes in its first call.
/// Here every handle is read from its exported symbol, and the library is loaded only when a
/// <see cref="MpiCommunicator"/> is created, so a plain (non-MPI) run never loads it.
/// </summary>
internal sealed unsafe class MpiLibrary
{
    /// <summary>Open MPI 4's library soname (the ABI the handles below assume).</summary>
    public const string FileName = "libmpi.so.40";

    /// <summary>MPI_THREAD_SERIALIZED: any thread may call MPI, one at a time (async continuations move between threads).</summary>
    public const int ThreadSerialized = 2;

    /// <summary>Open MPI's MPI_IN_PLACE, <c>(void *) 1</c>.</summary>
    public static readonly void* InPlace = (void*)1;

    public readonly nint World, Float, Double, Byte, Int, Sum;

    public readonly delegate* unmanaged<int*, byte***, int, int*, int> InitThread;
    public readonly delegate* unmanaged<int*, int> Initialized;
    public readonly delegate* unmanaged<int> Finalize;
    public readonly delegate* unmanaged<nint, int*, int> CommRank;
    public readonly delegate* unmanaged<nint, int*, int> CommSize;
    public readonly delegate* unmanaged<nint, int, int> Abort;
    public readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, nint*, int> Iallreduce;
    public readonly delegate* unmanaged<void*, int, nint, int, nint, nint*, int> Ibcast;
    public readonly delegate* unmanaged<void*, int, nint, void*, int, nint, int, nint, nint*, int> Igather;
    public readonly delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, int, nint, nint*, int> Igatherv;
    public readonly delegate* unmanaged<nint, nint*, int> Ibarrier;
    public readonly delegate* unmanaged<void*, int, nint, int, int, nint, nint*, int> Isend;
    public readonly delegate* unmanaged<void*, int, nint, int, int, nint, nint*, int> Irecv;
    public readonly delegate* unmanaged<nint*, int*, void*, int> Test;
    public readonly delegate* unmanaged<int, nint*, int*, void*, int> Testall;
    public readonly delegate* unmanaged<byte*, int*, int> GetLibraryVersion;
    public readonly delegate* unmanaged<nint*, int> Cancel;
    public readonly delegate* unmanaged<nint*, void*, int> Wait;
    public readonly delegate* unmanaged<nint*, int> RequestFree;

    MpiLibrary(nint handle)
    {
        nint Symbol(string name) => NativeLibrary.TryGetExport(handle, name, out var address) ? address
            : throw new DllNotFoundException($"{FileName} has no symbol '{name}': RewardKit calls Open MPI 4's ABI directly (MPICH and Intel MPI are not supported); install Debian's openmpi-bin and libopenmpi-dev.");
        World = Symbol("ompi_mpi_comm_world");
        Float = Symbol("ompi_mpi_float");
        Double = Symbol("ompi_mpi_double");
        Byte = Symbol("ompi_mpi_byte");
        Int = Symbol("ompi_mpi_int");
        Sum = Symbol("ompi_mpi_op_sum");
        InitThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Symbol("MPI_Init_thread");
        Initialized = (delegate* unmanaged<int*, int>)Symbol("MPI_Initialized");
        Finalize = (delegate* unmanaged<int>)Symbol("MPI_Finalize");
        CommRank = (delegate* unmanaged<nint, int*, int>)Symbol("MPI_Comm_rank");
        CommSize = (delegate* unmanaged<nint, int*, int>)Symbol("MPI_Comm_size");
        Abort = (delegate* unmanaged<nint, int, int>)Symbol("MPI_Abort");
        Iallreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, nint*, int>)Symbol("MPI_Iallreduce");
        Ibcast = (delegate* unmanaged<void*, int, nint, int, nint, nint*, int>)Symbol("MPI_Ibcast");
        Igather = (delegate* unmanaged<void*, int, nint, void*, int, nint, int, nint, nint*, int>)Symbol("MPI_Igather");
        Igatherv = (delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, int, nint, nint*, int>)Symbol("MPI_Igatherv");
        Ibarrier = (delegate* unmanaged<nint, nint*, int>)Symbol("MPI_Ibarrier");
        Isend = (delegate* unmanaged<void*, int, nint, int, int, nint, nint*, int>)Symbol("MPI_Isend");
        Irecv = (delegate* unmanaged<void*, int, nint, int, int, nint, nint*, int>)Symbol("MPI_Irecv");
        Test = (delegate* unmanaged<nint*, int*, void*, int>)Symbol("MPI_Test");
        Testall = (delegate* unmanaged<int, nint*, int*, void*, int>)Symbol("MPI_Testall");
        GetLibraryVersion = (delegate* unmanaged<byte*, int*, int>)Symbol("MPI_Get_library_version");
        Cancel = (delegate* unmanaged<nint*, int>)Symbol("MPI_Cancel");
        Wait = (delegate* unmanaged<nint*, void*, int>)Symbol("MPI_Wait");
        RequestFree = (delegate* unmanaged<nint*, int>)Symbol("MPI_Request_free");
    }

    /// <summary>Loads <see cref="FileName"/> and binds every entry point, or throws naming the packages to install.</summary>
    public static MpiLibrary Load()
    {
        if (!NativeLibrary.TryLoad(FileName, out var handle))
            throw new DllNotFoundException($"this process was started by an MPI launcher but {FileName} (Open MPI 4) could not be loaded; install it (Debian: apt-get install openmpi-bin libopenmpi-dev) on every machine of the job.");
        return new MpiLibrary(handle);
    }

    [DllImport("libc", EntryPoint = "setenv", SetLastError = true)]
    static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    /// <summary>
    /// Sets Open MPI parameter <paramref name="name"/> (as <c>OMPI_MCA_name</c> in the native environment, which MPI_Init
    /// reads; .NET's Environment.SetEnvironmentVariable does not reach it) unless the user set it already.
    /// </summary>
    public static void SetDefaultParameter(string name, string value)
    {
        if (SetEnv("OMPI_MCA_" + name, value, overwrite: 0) != 0)
            throw new InvalidOperationException($"setenv(OMPI_MCA_{name}) failed (errno {Marshal.GetLastPInvokeError()}); export OMPI_MCA_{name}={value} before mpirun instead.");
    }

    /// <summary>Throws when an MPI call returned an error code (with the default MPI_ERRORS_ARE_FATAL handler it never returns one).</summary>
    public static void Check(int code, string call)
    {
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error code {code}.");
    }

    /// <summary>The MPI library's own version line, e.g. "Open MPI v4.1.4, package: Debian OpenMPI, ...".</summary>
    public string Version()
    {
        var buffer = stackalloc byte[8192];   // MPI_MAX_LIBRARY_VERSION_STRING is 256 in Open MPI
        int length = 0;
        Check(GetLibraryVersion(buffer, &length), "MPI_Get_library_version");
        return System.Text.Encoding.ASCII.GetString(buffer, Math.Max(0, length)).Split('\n', 2)[0].Trim('\0', ' ', ',');
    }
}

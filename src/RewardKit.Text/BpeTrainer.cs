using System.Collections.Concurrent;
using System.Text;

namespace RewardKit.Text;

/// <summary>
/// Trains a byte-level BPE vocabulary (GPT-2 style): the corpus is split with <see cref="Gpt2PreTokenizer"/> and
/// counted per distinct piece ("word"); then, starting from the 256 bytes, the most frequent adjacent pair is merged
/// into a new token until the vocabulary is full. Pair counts are updated incrementally after each merge (only the
/// words containing the pair are touched) and the next pair comes from a priority queue with lazy deletion.
/// Ties go to the pair with the smaller (left id, right id), so the same corpus always gives the same tokenizer.
/// </summary>
public sealed class BpeTrainer
{
    readonly BpeTrainerOptions _options;
    readonly Dictionary<byte[], long> _wordCounts = new(ByteSpanComparer.Instance);

    /// <summary>A trainer with <paramref name="options"/> (validated here).</summary>
    public BpeTrainer(BpeTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    /// <summary>Number of distinct pre-tokens counted so far.</summary>
    public int DistinctWords => _wordCounts.Count;

    /// <summary>Total bytes of text counted so far.</summary>
    public long BytesSeen { get; private set; }

    /// <summary>Counts the pre-tokens of <paramref name="texts"/> (in parallel over texts).</summary>
    public void AddTexts(IEnumerable<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        int degree = _options.Threads <= 0 ? Environment.ProcessorCount : _options.Threads;
        var partials = new ConcurrentBag<(Dictionary<byte[], long> Counts, long Bytes)>();
        Parallel.ForEach(
            Partitioner.Create(texts, EnumerablePartitionerOptions.None),
            new ParallelOptions { MaxDegreeOfParallelism = degree, CancellationToken = cancellationToken },
            () => (Counts: new Dictionary<byte[], long>(ByteSpanComparer.Instance), Bytes: 0L),
            (text, _, local) =>
            {
                var bytes = Encoding.UTF8.GetBytes(text);
                CountPieces(bytes, local.Counts);
                return (local.Counts, local.Bytes + bytes.Length);
            },
            local => partials.Add(local));
        foreach (var (counts, bytes) in partials)
        {
            BytesSeen += bytes;
            foreach (var (word, n) in counts)
            {
                _wordCounts.TryGetValue(word, out long old);
                _wordCounts[word] = old + n;
            }
        }
    }

    static void CountPieces(ReadOnlySpan<byte> s, Dictionary<byte[], long> counts)
    {
        var lookup = counts.GetAlternateLookup<ReadOnlySpan<byte>>();
        for (int i = 0; i < s.Length;)
        {
            int len = Gpt2PreTokenizer.NextPieceLength(s, i);
            var piece = s.Slice(i, len);
            lookup.TryGetValue(piece, out long n);
            lookup[piece] = n + 1;
            i += len;
        }
    }

    /// <summary>Trains on everything counted so far and returns the tokenizer.</summary>
    public ByteLevelBpeTokenizer Train(CancellationToken cancellationToken = default)
    {
        // Ids: special tokens first, then the 256 bytes in byte order, then one id per merge.
        var tokens = new List<byte[]>();
        var specials = new List<SpecialToken>();
        foreach (var s in _options.SpecialTokens)
        {
            specials.Add(new SpecialToken(s, tokens.Count));
            tokens.Add(Encoding.UTF8.GetBytes(s));
        }
        int firstByte = tokens.Count;
        for (int b = 0; b < 256; b++) tokens.Add([(byte)b]);
        var idOfBytes = new Dictionary<byte[], int>(ByteSpanComparer.Instance);
        for (int id = firstByte; id < tokens.Count; id++) idOfBytes[tokens[id]] = id;

        // Words as symbol arrays, in a fixed order (by bytes) so that nothing depends on hashing or threads.
        var entries = _wordCounts.ToArray();
        Array.Sort(entries, (x, y) => x.Key.AsSpan().SequenceCompareTo(y.Key));
        var words = new int[entries.Length][];
        var wordLength = new int[entries.Length];
        var wordCount = new long[entries.Length];
        var pairCounts = new Dictionary<long, long>();
        var pairWords = new Dictionary<long, List<int>>();
        for (int w = 0; w < entries.Length; w++)
        {
            var bytes = entries[w].Key;
            var sym = new int[bytes.Length];
            for (int i = 0; i < bytes.Length; i++) sym[i] = firstByte + bytes[i];
            words[w] = sym;
            wordLength[w] = sym.Length;
            wordCount[w] = entries[w].Value;
            for (int i = 0; i + 1 < sym.Length; i++)
            {
                long key = Key(sym[i], sym[i + 1]);
                pairCounts.TryGetValue(key, out long c);
                pairCounts[key] = c + entries[w].Value;
                AddWord(pairWords, key, w);
            }
        }

        // Max-heap on (count, then smaller pair key) via a min-heap on (-count, key).
        var queue = new PriorityQueue<long, (long NegCount, long Key)>();
        foreach (var (key, c) in pairCounts)
            if (c >= _options.MinFrequency) queue.Enqueue(key, (-c, key));

        var merges = new List<(int, int)>();
        var visited = new int[words.Length];
        Array.Fill(visited, -1);
        var changed = new HashSet<long>();
        while (tokens.Count < _options.VocabSize && queue.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            queue.TryDequeue(out long best, out var priority);
            long current = pairCounts.GetValueOrDefault(best);
            if (current != -priority.NegCount)
            {
                // Stale entry: the pair's count fell since it was queued; requeue at its current count.
                if (current >= _options.MinFrequency) queue.Enqueue(best, (-current, best));
                continue;
            }

            int left = (int)(best >> 32), right = (int)(uint)best;
            // Two merges can spell the same bytes ("ab"+"c" and "a"+"bc"); they share one id, as in Hugging Face.
            byte[] joined = [.. tokens[left], .. tokens[right]];
            if (!idOfBytes.TryGetValue(joined, out int merged))
            {
                merged = tokens.Count;
                tokens.Add(joined);
                idOfBytes[joined] = merged;
            }
            merges.Add((left, right));
            int stamp = merges.Count;
            changed.Clear();

            foreach (int w in pairWords[best])
            {
                if (visited[w] == stamp) continue;
                visited[w] = stamp;
                MergeInWord(words[w], ref wordLength[w], wordCount[w], w, left, right, merged, pairCounts, pairWords, changed);
            }
            pairCounts.Remove(best);
            pairWords.Remove(best);
            foreach (long key in changed)
            {
                long c = pairCounts.GetValueOrDefault(key);
                if (c >= _options.MinFrequency) queue.Enqueue(key, (-c, key));
            }
        }
        return new ByteLevelBpeTokenizer(tokens, merges, specials);
    }

    /// <summary>
    /// Replaces every (left, right) in one word by <paramref name="merged"/>, left to right, and moves the word's
    /// count from the pairs that disappear (x,left), (right,y) to the pairs that appear (x,merged), (merged,y).
    /// The left neighbour is read after earlier replacements, so "a b a b" correctly yields (merged, merged).
    /// </summary>
    static void MergeInWord(int[] sym, ref int length, long count, int w, int left, int right, int merged,
        Dictionary<long, long> pairCounts, Dictionary<long, List<int>> pairWords, HashSet<long> changed)
    {
        int o = 0;
        int n = length;
        for (int r = 0; r < n; r++)
        {
            if (r + 1 < n && sym[r] == left && sym[r + 1] == right)
            {
                if (o > 0)
                {
                    int x = sym[o - 1];
                    Add(pairCounts, Key(x, left), -count);
                    Add(pairCounts, Key(x, merged), count);
                    AddWord(pairWords, Key(x, merged), w);
                    changed.Add(Key(x, merged));
                }
                if (r + 2 < n)
                {
                    int y = sym[r + 2];
                    Add(pairCounts, Key(right, y), -count);
                    Add(pairCounts, Key(merged, y), count);
                    AddWord(pairWords, Key(merged, y), w);
                    changed.Add(Key(merged, y));
                }
                sym[o++] = merged;
                r++;
            }
            else sym[o++] = sym[r];
        }
        length = o;
    }

    static void Add(Dictionary<long, long> counts, long key, long delta)
    {
        ref long c = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(counts, key, out _);
        c += delta;
    }

    static void AddWord(Dictionary<long, List<int>> pairWords, long key, int w)
    {
        ref var list = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(pairWords, key, out _);
        list ??= [];
        if (list.Count == 0 || list[^1] != w) list.Add(w);
    }

    static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    /// <summary>Counts <paramref name="texts"/> and trains in one call.</summary>
    public static ByteLevelBpeTokenizer Train(IEnumerable<string> texts, BpeTrainerOptions options,
        CancellationToken cancellationToken = default)
    {
        var trainer = new BpeTrainer(options);
        trainer.AddTexts(texts, cancellationToken);
        return trainer.Train(cancellationToken);
    }
}

using RewardKit.Text;

namespace RewardKit.Inference;

/// <summary>The reward of one assistant turn of a conversation.</summary>
/// <param name="MessageIndex">The turn's index in the conversation's messages.</param>
/// <param name="Score">Its reward: raw, normalised and calibrated.</param>
public sealed record TurnReward(int MessageIndex, RewardScore Score);

/// <summary>What was cut to fit a conversation into the model's context.</summary>
/// <param name="DroppedMessages">Oldest messages left out (whole turns, oldest first).</param>
/// <param name="DroppedTurns">Assistant turns among them (they get no reward).</param>
/// <param name="PromptTokensRemoved">Tokens cut from the start of what remained (only when its last exchange alone is too long).</param>
/// <param name="ResponseTokensRemoved">Tokens cut from the end of the last response (only when it alone is too long).</param>
public sealed record ConversationTruncation(int DroppedMessages, int DroppedTurns, int PromptTokensRemoved, int ResponseTokensRemoved)
{
    /// <summary>True when anything was left out or cut.</summary>
    public bool Truncated => DroppedMessages > 0 || PromptTokensRemoved > 0 || ResponseTokensRemoved > 0;
}

/// <summary>The rewards of a conversation.</summary>
/// <param name="Turns">One reward per assistant turn that was kept, in order.</param>
/// <param name="Truncation">What was cut to fit the context.</param>
/// <param name="Tokens">Tokens of the sequence scored (the kept conversation up to its last turn).</param>
/// <param name="ExtraRows">Turns whose text is not a token prefix of the last turn's (e.g. an end-of-text token after each
/// response) and were scored in rows of their own; 0 means one row for the whole conversation.</param>
public sealed record ConversationReward(IReadOnlyList<TurnReward> Turns, ConversationTruncation Truncation, int Tokens, int ExtraRows)
{
    /// <summary>The conversation's reward: that of its last assistant turn.</summary>
    public RewardScore Reward => Turns[^1].Score;
}

/// <summary>
/// Scores every assistant turn of multi-turn conversations with a causal (GPT-2) reward model in one forward pass: each
/// turn is rendered with the model's template as (messages before it, its content) — what scoring that prefix alone with
/// <see cref="RewardScorer"/> reads — and, since a later turn's text extends an earlier one's, its reward is read at its
/// last token inside the last turn's sequence. A conversation longer than the model's context loses its oldest turns
/// first (reported in <see cref="ConversationReward.Truncation"/>); only when its last exchange alone is too long is that
/// cut at token level as any pair is.
/// </summary>
public sealed class ConversationScorer
{
    readonly GptRewardScorer _model;
    readonly SequenceEncoder _encoder;
    readonly RewardScorer _scores;

    /// <summary>Wraps <paramref name="model"/>, which must have been built with its <see cref="GptRewardScorer.Sequences"/> encoder.</summary>
    public ConversationScorer(GptRewardScorer model)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _encoder = model.Sequences ?? throw new ArgumentException("the scorer has no SequenceEncoder; open the model with ModelLoading.Load (or build GptRewardScorer with its encoder).", nameof(model));
        if (model.Model.Outputs != 1)
            throw new NotSupportedException($"{model.Metadata.Name}: conversations are scored with one reward head; this model has {model.Model.Outputs} objectives.");
        if (model.Model.Pooling != Models.RewardPooling.LastToken)
            throw new NotSupportedException($"{model.Metadata.Name}: conversations are scored at each turn's last token; this model pools the mean over the response.");
        _scores = new RewardScorer(model, new RewardScorerOptions { CacheEntries = 0 });
    }

    /// <summary>
    /// A conversation scorer for a loaded model; throws <see cref="NotSupportedException"/> saying why when the model cannot
    /// score turns (not a causal GPT-2 reward model with one head).
    /// </summary>
    public static ConversationScorer For(IRewardModel model) => model switch
    {
        GptRewardScorer gpt => new ConversationScorer(gpt),
        IObjectiveRewardModel => throw new NotSupportedException($"{model.Metadata.Name}: a multi-objective model; per-turn conversation scoring supports single-head GPT-2 reward models."),
        _ => throw new NotSupportedException($"{model.Metadata.Name}: per-turn conversation scoring needs a causal GPT-2 reward model (the reward of a prefix is read inside the whole sequence); this model is not one."),
    };

    /// <summary>Scores <paramref name="conversations"/>; each must have at least one assistant message.</summary>
    public ConversationReward[] Score(IReadOnlyList<Conversation> conversations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(conversations);
        var plans = new Plan[conversations.Count];
        var rows = new List<int[]>();
        var positions = new List<int[]>();
        for (int c = 0; c < plans.Length; c++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            plans[c] = PlanOf(conversations[c], c);
            rows.AddRange(plans[c].Rows);
            positions.AddRange(plans[c].Positions);
        }
        var rewards = new float[positions.Sum(p => p.Length)];
        _model.ScoreAtPositions(rows, positions, rewards, cancellationToken);
        var offsets = new int[positions.Count];   // where each row's rewards start in `rewards`
        for (int r = 1; r < offsets.Length; r++) offsets[r] = offsets[r - 1] + positions[r - 1].Length;
        var results = new ConversationReward[plans.Length];
        for (int c = 0, firstRow = 0; c < plans.Length; firstRow += plans[c].Rows.Count, c++)
        {
            var plan = plans[c];
            var turns = new TurnReward[plan.Turns.Length];
            for (int k = 0; k < turns.Length; k++)
            {
                var (row, slot) = plan.Reads[k];
                float raw = rewards[offsets[firstRow + row] + slot];
                if (!float.IsFinite(raw)) throw new NonFiniteRewardException(c, raw, _model.Metadata.Name);
                turns[k] = new TurnReward(plan.Turns[k], _scores.ToScore(raw));
            }
            results[c] = new ConversationReward(turns, plan.Truncation, plan.Rows[0].Length, plan.Rows.Count - 1);
        }
        return results;
    }

    /// <summary>
    /// The rows and positions of one conversation: row 0 is the kept conversation up to its last turn, read at the end of
    /// every turn whose tokens prefix it; any other turn (its text is not a token prefix) gets a row of its own.
    /// </summary>
    Plan PlanOf(Conversation conversation, int index)
    {
        if (conversation is null) throw new ArgumentException($"conversation {index} is null.", nameof(conversation));
        var turns = conversation.AssistantTurns;
        if (turns.Count == 0)
            throw new ArgumentException($"conversation {index} has no assistant message; there is no turn to score (add the assistant's reply).", nameof(conversation));
        int start = 0, last = turns[^1];
        var full = Encode(conversation, start, last);
        while (full.Truncation.Truncated)
        {
            int oldest = turns.First(t => t >= start);
            if (oldest == last) break;                                        // the last exchange alone is too long: cut tokens
            start = oldest + 1;                                               // drop the oldest turn (its messages and reply)
            full = Encode(conversation, start, last);
        }
        var kept = turns.Where(t => t >= start).ToArray();
        var plan = new Plan(kept, new ConversationTruncation(start, turns.Count - kept.Length,
            full.Truncation.PromptTokensRemoved, full.Truncation.ResponseTokensRemoved));
        var inFull = new List<int>();
        plan.Rows.Add(full.Ids);
        plan.Positions.Add([]);
        for (int k = 0; k < kept.Length; k++)
        {
            var ids = k == kept.Length - 1 ? full.Ids : Encode(conversation, start, kept[k]).Ids;
            if (full.Ids.AsSpan().StartsWith(ids))
            {
                plan.Reads[k] = (0, inFull.Count);
                inFull.Add(ids.Length - 1);
            }
            else
            {
                plan.Reads[k] = (plan.Rows.Count, 0);
                plan.Rows.Add(ids);
                plan.Positions.Add([ids.Length - 1]);
            }
        }
        plan.Positions[0] = [.. inFull];
        return plan;
    }

    EncodedSequence Encode(Conversation conversation, int start, int turn)
    {
        var context = conversation.Messages.Skip(start).Take(turn - start).ToArray();
        return _encoder.Encode(_encoder.Template.RenderTurn(context, conversation.Messages[turn].Content))
            ?? throw new InvalidDataException("the conversation could not be fitted into the model's maximum length.");
    }

    /// <summary>One conversation's rows (row 0 the whole kept conversation), the positions read in each, and where each turn is read.</summary>
    sealed class Plan(int[] turns, ConversationTruncation truncation)
    {
        public int[] Turns { get; } = turns;
        public ConversationTruncation Truncation { get; } = truncation;
        public List<int[]> Rows { get; } = [];
        public List<int[]> Positions { get; } = [];
        public (int Row, int Slot)[] Reads { get; } = new (int, int)[turns.Length];
    }
}

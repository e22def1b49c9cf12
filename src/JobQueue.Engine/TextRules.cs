namespace JobQueue.Engine;

/// <summary>
/// What text the queue can keep exactly. Text is stored as UTF-8, and an unpaired UTF-16
/// surrogate has no UTF-8 form: it would silently come back as U+FFFD. Such text is refused
/// instead, so whatever is stored comes back byte for byte.
/// </summary>
public static class TextRules
{
    /// <summary>The index of the first unpaired surrogate in <paramref name="text"/>, or -1.</summary>
    public static int IndexOfLoneSurrogate(string text)
    {
        var span = text.AsSpan();
        var i = span.IndexOfAnyInRange('\uD800', '\uDFFF');
        if (i < 0) return -1;
        for (; i < span.Length; i++)
        {
            var c = span[i];
            if (!char.IsSurrogate(c)) continue;
            if (char.IsHighSurrogate(c) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
            {
                i++;
                continue;
            }
            return i;
        }
        return -1;
    }

    /// <summary>Refuses text with an unpaired surrogate; <paramref name="what"/> names it in the message ("job name").</summary>
    public static void Validate(string? text, string what)
    {
        if (text is null) return;
        var index = IndexOfLoneSurrogate(text);
        if (index >= 0)
        {
            throw new JobQueueException(ErrorKind.InvalidArgument,
                $"The {what} has an unpaired UTF-16 surrogate (U+{(int)text[index]:X4} at index {index}), which cannot be stored as text; nothing was written.",
                null, code: "InvalidText");
        }
    }
}

using System.Globalization;

namespace JobQueue.Engine;

/// <summary>GPU device lists as stored ("0,2") and as given to CUDA_VISIBLE_DEVICES.</summary>
public static class GpuList
{
    public static int[] Parse(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture))
            .ToArray();

    public static string? Format(IEnumerable<int>? gpus) =>
        gpus is null ? null : string.Join(",", gpus.Select(g => g.ToString(CultureInfo.InvariantCulture)));
}

internal static class StatisticsBuilder
{
    public static JobQueueStatistics Build(SortedDictionary<string, long[]> perType, string database)
    {
        var totals = new long[5];
        var byType = new List<JobTypeCount>();
        foreach (var (type, c) in perType)
        {
            for (var i = 0; i < 5; i++) totals[i] += c[i];
            byType.Add(new JobTypeCount { JobType = type, Pending = c[0], Running = c[1], Completed = c[2], Failed = c[3], Cancelled = c[4] });
        }
        return new JobQueueStatistics
        {
            Pending = totals[0],
            Running = totals[1],
            Completed = totals[2],
            Failed = totals[3],
            Cancelled = totals[4],
            ByType = byType.ToArray(),
            Database = database,
        };
    }
}

# A job's config comes back with the same keys, nesting, types and text that were submitted.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')

    function Get-RoundTrip($Config) {
        # Submit, then read back through a fresh Get-TrainingJob, as a later session would.
        $job = Submit-TrainingJob -Database $db -Type training -Config $Config
        (Get-TrainingJob -Database $db -Id $job.JobId).Config
    }
}

Describe 'Config round-trip (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll {
        $backend = $_
        $db = New-TestDatabase -Backend $backend
    }

    It 'keeps nested hashtables and arrays' {
        $config = @{
            training_config = @{ epochs = 10; optimizer = @{ name = 'adamw'; betas = @(0.9, 0.999) } }
            layers          = @(@{ size = 512 }, @{ size = 256 })
            empty_list      = @()
            empty_map       = @{}
            one             = @(42)
        }
        $back = Get-RoundTrip $config
        $back.training_config.epochs | Should -Be 10
        $back.training_config.optimizer.name | Should -Be 'adamw'
        $back.training_config.optimizer.betas | Should -Be @(0.9, 0.999)
        $back.layers.Count | Should -Be 2
        $back.layers[1].size | Should -Be 256
        , $back.empty_list | Should -BeOfType [array]
        $back.empty_list.Count | Should -Be 0
        $back.empty_map | Should -BeOfType [Collections.IDictionary]
        $back.empty_map.Count | Should -Be 0
        , $back.one | Should -BeOfType [array]
        $back.one | Should -Be @(42)
        ($back | ConvertTo-Json -Depth 10 -Compress) | Should -Be ($config | ConvertTo-Json -Depth 10 -Compress)
    }

    It 'keeps ints, longs and doubles with their types (5e-5 stays 5e-5)' {
        $back = Get-RoundTrip ([ordered]@{ batch = 4; steps = 5000000000; lr = 5e-5; ratio = 0.1; negative = -273.15; big = 1e300; max_int = [int]::MaxValue; min_long = [long]::MinValue })
        $back.batch | Should -BeOfType [int]
        $back.batch | Should -Be 4
        $back.steps | Should -BeOfType [long]
        $back.steps | Should -Be 5000000000
        $back.lr | Should -BeOfType [double]
        $back.lr | Should -Be 5e-5
        $back.ratio | Should -Be 0.1
        $back.negative | Should -Be -273.15
        $back.big | Should -Be 1e300
        $back.max_int | Should -Be ([int]::MaxValue)
        $back.min_long | Should -Be ([long]::MinValue)
    }

    It 'keeps booleans and nulls' {
        $back = Get-RoundTrip ([ordered]@{ shuffle = $true; fp16 = $false; resume_from = $null })
        $back.shuffle | Should -BeTrue
        $back.shuffle | Should -BeOfType [bool]
        $back.fp16 | Should -BeFalse
        $back.fp16 | Should -BeOfType [bool]
        $back.Contains('resume_from') | Should -BeTrue
        $back.resume_from | Should -BeNullOrEmpty
    }

    It 'keeps unicode text, emoji included, in keys and values' {
        $back = Get-RoundTrip ([ordered]@{ 'prompt' = 'Grüße, 世界! 🚀🤖'; 'модель' = 'ç'; 'quote"back\slash' = "tab`tnew`nline" })
        $back.prompt | Should -BeExactly 'Grüße, 世界! 🚀🤖'
        $back['модель'] | Should -BeExactly 'ç'
        $back['quote"back\slash'] | Should -BeExactly "tab`tnew`nline"
    }

    It 'keeps the order of the keys of an ordered dictionary' {
        $keys = 'zeta', 'alpha', 'mu', 'beta', 'omega', 'a'
        $config = [ordered]@{}
        foreach ($k in $keys) { $config[$k] = $k.Length }
        @((Get-RoundTrip $config).Keys) | Should -Be $keys
    }

    It 'keeps the order of keys written in JSON text' {
        @((Get-RoundTrip '{"b": 1, "a": {"y": 2, "x": 3}}').Keys) | Should -Be @('b', 'a')
    }

    It 'keeps a CSV row as its columns, in column order, as text' {
        $row = "model,learning_rate,batch_size`ngpt-small,5e-5,16" | ConvertFrom-Csv
        $back = Get-RoundTrip $row
        @($back.Keys) | Should -Be @('model', 'learning_rate', 'batch_size')
        $back.learning_rate | Should -BeExactly '5e-5'
        $back.batch_size | Should -BeExactly '16'
    }

    It 'keeps a custom object, nested in a hashtable' {
        $back = Get-RoundTrip @{ data = [pscustomobject]@{ path = '/data/train.jsonl'; shards = 8 } }
        $back.data.path | Should -Be '/data/train.jsonl'
        $back.data.shards | Should -Be 8
    }

    It 'looks keys up case-insensitively, as PowerShell hashtables do' {
        $back = Get-RoundTrip @{ Learning_Rate = 0.001 }
        $back.learning_rate | Should -Be 0.001
        $back['LEARNING_RATE'] | Should -Be 0.001
    }

    It 'gives an empty config when none is given' {
        $back = Get-RoundTrip $null
        $back | Should -BeOfType [Collections.IDictionary]
        $back.Count | Should -Be 0
    }

    It 'reads back the same config in another process' {
        $job = Submit-TrainingJob -Database $db -Type training -Config ([ordered]@{ lr = 5e-5; name = 'Grüße 🚀'; steps = 5000000000; layers = @(1, 2, 3); nested = @{ ok = $true } })
        $r = Invoke-Pwsh "(Get-TrainingJob -Database '$db' -Id $($job.JobId)).Config | ConvertTo-Json -Compress -Depth 5" -Environment @{ JOBQUEUE_DATABASE = '' }
        $r.ExitCode | Should -Be 0 -Because $r.Error
        # Unicode travels through the child's console output; compare via the parsed JSON.
        $child = $r.Output | ConvertFrom-Json -AsHashtable
        $child.lr | Should -Be 5e-5
        $child.steps | Should -Be 5000000000
        $child.name | Should -Be 'Grüße 🚀'
        $child.layers | Should -Be @(1, 2, 3)
        $child.nested.ok | Should -BeTrue
        @($child.Keys) | Should -Be @('lr', 'name', 'steps', 'layers', 'nested')
    }
}

Describe 'Config as stored (<_>)' -ForEach (Get-SqliteBackend) {
    It 'is JSON text that sqlite3 can query, unicode included' {
        $db = New-TestDatabase -Backend $_
        $job = Submit-TrainingJob -Database $db -Type training -Config ([ordered]@{ training_config = @{ learning_rate = 5e-5 }; note = 'café 🚀' })
        $row = Invoke-Sqlite $db "SELECT json_extract(config, '$.training_config.learning_rate') FROM jobs WHERE job_id = $($job.JobId)"
        [double]$row | Should -Be 5e-5
        $text = Invoke-Sqlite $db "SELECT json_valid(config), config FROM jobs WHERE job_id = $($job.JobId)"
        $text | Should -Match '^1\|\{"training_config"'
        $text | Should -Match '"note":"café '
        Invoke-Sqlite $db "SELECT json_extract(config, '$.note') FROM jobs WHERE job_id = $($job.JobId)" | Should -BeExactly 'café 🚀'
    }
}

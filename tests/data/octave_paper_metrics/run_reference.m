% Prints case_id,metric,value,call (%.17g) for the reference functions of VIFF, Qabf, Qc, Qm, SCD
% on the cases of this folder. Run from this folder:
%   MFIF_METRICS=.../MFIF-Metrics/fusion-metrics IFM=.../imageFusionMetrics octave-cli -q run_reference.m
% IFM must contain metricPWW.m and matlabPyrTools (pyrtools/matlabPyrTools), put last on the path.
pkg load image;
addpath(pwd);                                   % freqspace shim (missing in Octave)
addpath(getenv('MFIF_METRICS'));
addpath(getenv('IFM'), '-end');
addpath(fullfile(getenv('IFM'), 'pyrtools', 'matlabPyrTools'), '-end');
warning('off', 'all');
ids = {'camera_97x131', 'coins_64x48', 'coins_75x101_float', 'text_33x57_constant_fused'};
calls = {'VIFF', 'VIFF_Public(A,B,F)'; 'Qabf', 'metricXydeas(A,B,F)'; 'Qc', 'real(metricChenBlum(A,B,F))'; ...
         'Qm', 'metricPWW(A,B,F)'; 'SCD', 'analysis_SCD(A,B,F)'};
printf('case_id,metric,value,call\n');
for i = 1:numel(ids)
  id = ids{i};
  if exist([id '-A.png'], 'file')
    A = double(imread([id '-A.png'])); B = double(imread([id '-B.png'])); F = double(imread([id '-F.png']));
  else  % non-integer case, written by make_cases.py as %.17g text
    A = dlmread([id '-A.txt'], ','); B = dlmread([id '-B.txt'], ','); F = dlmread([id '-F.txt'], ',');
  end
  for j = 1:size(calls, 1)
    evalc(['v = ' calls{j, 2} ';']);            % corrDn.m prints a "compile the MEX" note
    printf('%s,%s,%.17g,%s\n', id, calls{j, 1}, v, calls{j, 2});
  end
end
